"""Is a route an LLM route, and why.

Evidence, strongest first: the user's own mark (``tokenpath.dev/streaming: "true"``, and
``"false"`` excludes the route whatever else says), the backend workload's image (vLLM, TGI,
SGLang, Ollama, llama.cpp, LocalAI, NIM, KServe, LiteLLM, Open WebUI, Triton with an LLM
backend, Ray LLM, ...), its command line (``vllm serve``), the route's path
(``/v1/chat/completions``, ``/generate_stream``, ``/api/chat``), a ``/v1`` path on a port
an LLM server listens on by default, and last the Service or workload name. The reason names
the evidence, e.g. ``image vllm/vllm-openai:v0.6.3 of Deployment/ai/vllm``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from tokenpath.lint.objects import Entry, Service, Workload
from tokenpath.lint.ownership import image_repository

STREAMING_ANNOTATION = "tokenpath.dev/streaming"


@dataclass(frozen=True, slots=True)
class Server:
    label: str
    pattern: re.Pattern[str]  # searched in the lower-cased image repository


def _server(label: str, pattern: str) -> Server:
    return Server(label, re.compile(pattern))


# Segment boundaries: start, "/", "-", "_", "." or end.
_B = r"(?:^|[/._-])"
_E = r"(?:$|[/._-])"
SERVERS = (
    _server("vLLM", rf"{_B}vllm"),
    _server("TGI", rf"text-generation-inference|{_B}tgi{_E}"),
    _server("SGLang", rf"{_B}sglang"),
    _server("Ollama", rf"{_B}ollama{_E}"),
    _server("llama.cpp", r"llama\.cpp|llama-cpp|llama-server|llamacpp|llamafile"),
    _server("LocalAI", rf"{_B}local-?ai{_E}"),
    _server("NVIDIA NIM", r"^nvcr\.io/nim/"),
    _server("TensorRT-LLM", r"tensorrt-llm|tensorrt_llm|trtllm"),
    _server("KServe Hugging Face runtime", r"kserve/huggingfaceserver"),
    _server("LiteLLM", rf"{_B}litellm"),
    _server("Open WebUI", r"open-webui"),
    _server("Ray LLM", r"ray-llm"),
    _server("LMDeploy", rf"{_B}lmdeploy"),
    _server("Xinference", rf"{_B}xinference"),
    _server("LoRAX", rf"{_B}lorax{_E}"),
    _server("Aphrodite", r"aphrodite"),
    _server("TabbyAPI", r"tabbyapi"),
    _server("KoboldCpp", r"koboldcpp"),
    _server("OpenLLM", rf"{_B}openllm"),
    _server("MLC LLM", r"mlc-llm|mlc-ai"),
)
# Triton serves any model; only its LLM backends stream tokens.
_TRITON = re.compile(r"tritonserver")
_TRITON_LLM_TAG = re.compile(r"vllm|trtllm|tensorrt-llm")
# Command lines that start an LLM server whatever the image.
COMMANDS = (
    ("vLLM", re.compile(r"\bvllm\b.*\bserve\b|vllm\.entrypoints")),
    ("SGLang", re.compile(r"sglang\.launch_server")),
    ("TGI", re.compile(r"\btext-generation-launcher\b")),
    ("llama.cpp", re.compile(r"\bllama-server\b")),
    ("Ollama", re.compile(r"\bollama\s+serve\b")),
    ("LiteLLM", re.compile(r"\blitellm\b")),
)
# Streaming API paths: (path prefix, API).
PATHS = (
    ("/v1/chat/completions", "OpenAI chat completions"),
    ("/v1/completions", "OpenAI completions"),
    ("/v1/responses", "OpenAI responses"),
    ("/v1/messages", "Anthropic messages"),
    ("/chat/completions", "OpenAI chat completions"),
    ("/generate_stream", "TGI streaming"),
    ("/api/chat", "Ollama chat"),
    ("/api/generate", "Ollama generate"),
)
# Default ports of LLM servers that serve an OpenAI API under /v1.
PORTS = {8000: "vLLM", 11434: "Ollama", 30000: "SGLang", 4000: "LiteLLM"}
_NAME_HINT = re.compile(
    r"(^|[-_.])(vllm|tgi|sglang|ollama|llama-?cpp|llama-server|localai|litellm|nim-llm|"
    r"text-generation-inference|open-webui|trtllm)([-_.]|$)"
)


def llm_reason(
    annotations: Sequence[Entry],
    where: str,
    path: str,
    service: Service | None,
    workloads: Sequence[Workload],
    ports: Sequence[int],
) -> str:
    """Why the route counts as an LLM route, or "" when it does not. ``annotations`` and
    ``where`` are those of the object declaring the route (an Ingress, an HTTPRoute, ...);
    ``ports`` are the Service port and the resolved container port the route reaches."""
    own = next((e for e in annotations if e.key == STREAMING_ANNOTATION), None)
    marks = [_mark(own, where)]
    if service is not None:
        marks.append(_mark(_annotation(service, STREAMING_ANNOTATION), str(service.ref)))
    for marked in marks:
        if marked is not None:
            return marked
    for workload in workloads:
        reason = _by_image(workload) or _by_command(workload)
        if reason:
            return reason
    by_path = _by_path(path, ports)
    if by_path:
        return by_path
    names = [(str(service.ref), service.ref.name)] if service is not None else []
    names += [(str(w.ref), w.ref.name) for w in workloads]
    for what, name in names:
        if _NAME_HINT.search(name.lower()):
            return f"{what} is named after an LLM server"
    return ""


def _annotation(service: Service, key: str) -> Entry | None:
    return next((e for e in service.annotations if e.key == key), None)


def _mark(entry: Entry | None, where: str) -> str | None:
    """ "" when the user excludes the route, a reason when they include it, None if unset."""
    if entry is None:
        return None
    word = entry.value.strip().lower()
    if word in ("true", "yes", "on", "1"):
        return f'annotation {STREAMING_ANNOTATION}: "{entry.value}" on {where}'
    if word in ("false", "no", "off", "0"):
        return ""
    return None


def server_of(image: str) -> str:
    """The LLM server an image runs ("vLLM"), or ""."""
    repository = image_repository(image).lower()
    for server in SERVERS:
        if server.pattern.search(repository):
            return server.label
    if _TRITON.search(repository) and _TRITON_LLM_TAG.search(image.lower()):
        return "Triton with an LLM backend"
    return ""


def _by_image(workload: Workload) -> str:
    for container in workload.containers:
        server = server_of(container.image)
        if server:
            return f"image {container.image} of {workload.ref} ({server})"
    return ""


def _by_command(workload: Workload) -> str:
    for container in workload.containers:
        line = " ".join((*container.command, *container.args))
        for server, pattern in COMMANDS:
            if pattern.search(line):
                return f"command line of {workload.ref} starts {server}"
    return ""


def _by_path(path: str, ports: Sequence[int]) -> str:
    clean = path.rstrip("/") or "/"
    for prefix, api in PATHS:
        if (
            clean == prefix
            or clean.startswith(prefix + "/")
            or (prefix.startswith(clean + "/") and clean.count("/") >= 2)
        ):
            return f"path {path} ({api} API)"
    if clean == "/v1" or clean.startswith("/v1/"):
        for port in ports:
            if port in PORTS:
                return f"path {path} on port {port}, the default port of {PORTS[port]}"
    return ""
