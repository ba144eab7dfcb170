"""LLM route detection: images, command lines, paths, ports, the user's annotation."""

from __future__ import annotations

import pytest

from tokenpath.lint.document import SourceText
from tokenpath.lint.kinds import parse_objects
from tokenpath.lint.llm import llm_reason, server_of
from tokenpath.lint.load import load_documents
from tokenpath.lint.objects import Objects
from tokenpath.lint.routes import resolve_backend


def load(text: str) -> Objects:
    documents, errors = load_documents(SourceText("in.yaml", text))
    objects, object_errors = parse_objects(documents, {"in.yaml": text})
    assert errors + object_errors == []
    return objects


def reason(
    image: str = "nginx:1.27",
    path: str = "/",
    port: int = 80,
    container_port: int = 80,
    annotation: str = "",
    args: str = "[]",
    name: str = "web",
) -> str:
    marks = f"  annotations:\n    tokenpath.dev/streaming: {annotation!r}\n" if annotation else ""
    objects = load(
        f"apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: i\n  namespace: ai\n"
        f"{marks}spec:\n  rules:\n    - http:\n        paths:\n          - path: {path}\n"
        f"            backend: {{service: {{name: {name}, port: {{number: {port}}}}}}}\n"
        f"---\napiVersion: v1\nkind: Service\nmetadata: {{name: {name}, namespace: ai}}\n"
        f"spec: {{selector: {{app: {name}}}, "
        f"ports: [{{port: {port}, targetPort: {container_port}}}]}}\n"
        f"---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}, namespace: ai}}\n"
        f"spec:\n  template:\n    metadata: {{labels: {{app: {name}}}}}\n    spec:\n"
        f"      containers: [{{name: c, image: {image!r}, args: {args}}}]\n"
    )
    ingress = objects.ingresses[0]
    path_entry = ingress.rules[0].paths[0]
    target = resolve_backend(objects, ingress.ref.namespace, path_entry.backend)
    return llm_reason(
        ingress.annotations,
        str(ingress.ref),
        path_entry.path,
        target.service,
        target.workloads,
        target.ports,
    )


@pytest.mark.parametrize(
    ("image", "server"),
    [
        ("vllm/vllm-openai:v0.6.3", "vLLM"),
        ("docker.io/vllm/vllm-openai@sha256:abc", "vLLM"),
        ("rocm/vllm:latest", "vLLM"),
        ("ghcr.io/huggingface/text-generation-inference:2.4.0", "TGI"),
        ("ghcr.io/huggingface/tgi-gaudi:2.0", "TGI"),
        ("lmsysorg/sglang:v0.3.5-cu124", "SGLang"),
        ("ollama/ollama:0.3.12", "Ollama"),
        ("ghcr.io/ggml-org/llama.cpp:server", "llama.cpp"),
        ("ghcr.io/ggerganov/llama.cpp:server-cuda", "llama.cpp"),
        ("localai/localai:latest-aio-cpu", "LocalAI"),
        ("quay.io/go-skynet/local-ai:v2.20.1", "LocalAI"),
        ("nvcr.io/nim/meta/llama-3.1-8b-instruct:1.1.2", "NVIDIA NIM"),
        ("kserve/huggingfaceserver:v0.14.0", "KServe Hugging Face runtime"),
        ("ghcr.io/berriai/litellm:main-latest", "LiteLLM"),
        ("ghcr.io/open-webui/open-webui:main", "Open WebUI"),
        ("nvcr.io/nvidia/tritonserver:24.08-vllm-python-py3", "Triton with an LLM backend"),
        ("anyscale/ray-llm:2.9", "Ray LLM"),
        ("openmmlab/lmdeploy:latest", "LMDeploy"),
    ],
)
def test_llm_server_images(image: str, server: str) -> None:
    assert server_of(image) == server


@pytest.mark.parametrize(
    "image",
    [
        "nginx:1.27",
        "postgres:16",
        "redis:7",
        "nvcr.io/nvidia/tritonserver:24.08-py3",  # Triton without an LLM backend
        "ghcr.io/huggingface/text-embeddings-inference:1.5",
        "registry.k8s.io/ingress-nginx/controller:v1.12.1",
        "myorg/settings-api:1.0",
    ],
)
def test_other_images(image: str) -> None:
    assert server_of(image) == ""


def test_reason_names_the_image_and_workload() -> None:
    assert reason(image="vllm/vllm-openai:v0.6.3") == (
        "image vllm/vllm-openai:v0.6.3 of Deployment/ai/web (vLLM)"
    )


def test_command_line_of_a_generic_image() -> None:
    found = reason(image="python:3.12", args='["vllm", "serve", "meta-llama/Llama-3.1-8B"]')
    assert found == "command line of Deployment/ai/web starts vLLM"


@pytest.mark.parametrize(
    "path",
    ["/v1/chat/completions", "/v1/completions", "/generate_stream", "/api/chat", "/api/generate"],
)
def test_streaming_paths(path: str) -> None:
    assert reason(path=path).startswith(f"path {path} (")


def test_v1_prefix_counts_only_on_llm_server_ports() -> None:
    assert reason(path="/v1", port=80, container_port=8000) == (
        "path /v1 on port 8000, the default port of vLLM"
    )
    assert reason(path="/v1/", port=11434, container_port=11434).endswith("Ollama")
    assert reason(path="/v1", port=80, container_port=8080) == ""
    assert reason(path="/", port=80, container_port=8000) == ""


def test_annotation_marks_and_excludes() -> None:
    assert reason(annotation="true") == 'annotation tokenpath.dev/streaming: "true" on Ingress/ai/i'
    assert reason(image="vllm/vllm-openai", annotation="false") == ""
    assert reason(path="/v1/chat/completions", annotation="false") == ""
    assert reason(image="vllm/vllm-openai", annotation="maybe").startswith("image ")


def test_names_are_the_weakest_evidence() -> None:
    assert reason(name="ollama-gpu") == "Service/ai/ollama-gpu is named after an LLM server"
    assert reason(name="settings") == ""
