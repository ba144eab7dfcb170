"""Lint speed and memory: ``tokenpath lint`` against checkov's Kubernetes scan, on the same files.

Run::

    python benchmarks/lint.py [--sizes 1000,10000,100000] [--checkov PATH]
                              [--checkov-max 10000] [--timeout 600]
                              [--corpus nginx|gateway|mixed]

It needs psutil (from the ``bench`` or ``test`` extra). checkov is not a dependency of ours;
put it in a venv of its own, e.g.::

    python3 -m venv /tmp/venv-checkov && /tmp/venv-checkov/bin/pip install checkov

``--checkov`` defaults to ``checkov`` on PATH, else ``/tmp/venv-checkov/bin/checkov``; without
it only tokenpath is measured.

Corpora are generated here, seeded (``--seed``), so every run lints the same bytes: a
repository of "apps", each a Deployment (about a third run LLM servers such as
``vllm/vllm-openai:v0.6.3``, the rest nginx, busybox or in-house APIs; labels, ports, probes,
resources, GPUs for the LLM ones), its Service, an ingress-nginx Ingress for most
(``ingressClassName: nginx``, hosts, TLS, paths such as ``/v1/chat/completions``, annotations
including streaming-hostile ones like ``proxy-read-timeout: "3600s"`` and
``proxy-buffering: "on"``, now and then one of the wrong controller) and now and then a
ConfigMap; plus the ingress-nginx controller itself (Deployment, ConfigMap, IngressClass,
Service). Apps are written as multi-document YAML files of 50-100 objects in nested team and
namespace directories, some with Helm's ``# Source:`` comments, the way a GitOps repository looks.

That is ``--corpus nginx`` (the default). ``--corpus gateway`` routes the same apps through
the Envoy family instead: an Envoy Gateway HTTPRoute per routed app (parentRefs to its
namespace's Gateway or a shared one, GatewayClass ``eg``; hostnames; a rule per path, with
``timeouts.request`` unset, ``1200s``, now and then the invalid ``1.5h``; backendRefs to the
Service), for some a BackendTrafficPolicy on the HTTPRoute (``requestTimeout``,
``streamIdleTimeout``), now and then an Istio VirtualService (``timeout: 30s``, mesh host
``svc.ns.svc.cluster.local``) or a Contour HTTPProxy (``timeoutPolicy.response: 0s`` at
times); per namespace a Gateway, a Gateway-wide BackendTrafficPolicy and a
ClientTrafficPolicy; cluster-wide the GatewayClass and the shared Gateway. ``--corpus mixed``
routes every other app each way, with both platforms. A corpus whose report has input errors,
or (Envoy family) no TP204 finding, i.e. no route resolved, stops the benchmark (exit 2).

Each tool is a fresh subprocess per run, so start-up (interpreter, imports) is counted, as a
user would see it:

* ``python -m tokenpath lint DIR --format json --all-routes`` (every route, not only the LLM
  ones: the most work); exit 0 or 1 is a good run, 2 means an input error (reported);
* ``checkov -d DIR --framework kubernetes --quiet --compact -o json``; exit 1 only means it
  found failed checks. checkov parses files in ``os.cpu_count()`` forked workers.

Both write their JSON report to a file, read back after the clock stops to check that the
run saw the objects. Each command is forked by a tiny launcher process that times it from
fork to reap (``time.monotonic()``) and reads its ``ru_maxrss`` from ``os.wait4`` (see
``LAUNCHER`` for why not directly from here). Peak memory ("peak RSS") is the larger of that
``ru_maxrss`` (exact for a single process such as tokenpath) and the largest sum of PSS over
the command's process tree, polled every 100 ms (for checkov's forked workers, whose pages
are largely shared with their parent, so summing their RSS would count them twice). "RSS per
1k objects" is (peak - baseline) / thousands of objects, the baseline being the same command
on a corpus of one small file (the cost of starting up).

One warm-up run of each tool on the smallest corpus first (page cache, bytecode), then each
tool runs once per size. checkov runs only for sizes <= ``--checkov-max`` (it takes minutes
beyond), and every run is killed after ``--timeout`` seconds (600), which bounds the whole
benchmark. Corpora live in a temporary directory, removed at the end.

Targets: 10k objects in <= 5 s; >= 10x faster than checkov; memory growing linearly, i.e.
the RSS per 1k objects at the largest size is at most 1.5x the one at the next size down.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil  # type: ignore[import-untyped]  # no stubs in the venv

TARGET_SECONDS_10K = 5.0
TARGET_SPEEDUP = 10.0
POLL_SECONDS = 0.1  # memory of the process tree
LINEAR_SLACK = 1.5  # per-1k RSS may grow by this factor between the two largest sizes
CHECKOV_INSTALL = "python3 -m venv /tmp/venv-checkov && /tmp/venv-checkov/bin/pip install checkov"
CHECKOV_FALLBACK = "/tmp/venv-checkov/bin/checkov"

# --------------------------------------------------------------------------------------------
# Corpus

LLM_IMAGES = [  # (image, container port, args, health path)
    (
        "vllm/vllm-openai:v0.6.3",
        8000,
        ["--model", "meta-llama/Llama-3.1-8B-Instruct", "--max-model-len", "8192"],
        "/health",
    ),
    (
        "vllm/vllm-openai:v0.6.3.post1",
        8000,
        ["--model", "Qwen/Qwen2.5-7B-Instruct", "--served-model-name", "qwen"],
        "/health",
    ),
    (
        "ghcr.io/huggingface/text-generation-inference:2.3.1",
        80,
        ["--model-id", "mistralai/Mistral-7B-Instruct-v0.3"],
        "/health",
    ),
    (
        "lmsysorg/sglang:v0.3.5-cu121",
        30000,
        ["python3", "-m", "sglang.launch_server", "--model-path", "Qwen/Qwen2.5-1.5B"],
        "/health",
    ),
    ("ollama/ollama:0.4.1", 11434, [], "/"),
    (
        "ghcr.io/ggerganov/llama.cpp:server",
        8080,
        ["-m", "/models/model.gguf", "-c", "4096"],
        "/health",
    ),
    (
        "ghcr.io/berriai/litellm:main-v1.52.0",
        4000,
        ["--config", "/app/config.yaml"],
        "/health/liveliness",
    ),
]
OTHER_IMAGES = [  # (image, container port, health path)
    ("nginx:1.27.2", 80, "/"),
    ("nginx:1.25-alpine", 8080, "/healthz"),
    ("busybox:1.36", 8080, "/"),
    ("ghcr.io/acme/orders-api:2.14.0", 8080, "/healthz"),
    ("ghcr.io/acme/web-frontend:5.3.1", 3000, "/"),
    ("registry.acme.internal/payments/gateway:1.9.4", 9000, "/ready"),
]
LLM_PATHS = [
    "/v1/chat/completions",
    "/v1/completions",
    "/v1",
    "/generate_stream",
    "/api/chat",
    "/v1/embeddings",
]
OTHER_PATHS = ["/", "/api", "/static", "/orders", "/graphql", "/healthz"]
WORDS = [
    "alpha",
    "atlas",
    "beacon",
    "cedar",
    "comet",
    "delta",
    "ember",
    "falcon",
    "garnet",
    "harbor",
    "iris",
    "juniper",
    "kestrel",
    "lumen",
    "maple",
    "nova",
    "onyx",
    "orbit",
    "pine",
    "quartz",
    "raven",
    "sierra",
    "tango",
    "umber",
    "vega",
    "willow",
    "xenon",
    "yarrow",
    "zephyr",
]
TEAMS = ["search", "ml-platform", "payments", "growth", "assistant", "data", "infra", "support"]
ENVS = ["prod", "staging", "dev"]

CONTROLLER = """\
# Source: ingress-nginx/templates/controller-configmap.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: ingress-nginx-controller
  namespace: ingress-nginx
  labels:
    app.kubernetes.io/name: ingress-nginx
    app.kubernetes.io/component: controller
data:
  allow-snippet-annotations: "false"
  proxy-read-timeout: "120"
  proxy-send-timeout: "120"
  proxy-body-size: "8m"
  use-gzip: "true"
  gzip-types: "application/json text/event-stream text/plain"
  use-forwarded-headers: "true"
---
# Source: ingress-nginx/templates/controller-ingressclass.yaml
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: nginx
  labels:
    app.kubernetes.io/name: ingress-nginx
    app.kubernetes.io/component: controller
  annotations:
    ingressclass.kubernetes.io/is-default-class: "true"
spec:
  controller: k8s.io/ingress-nginx
---
# Source: ingress-nginx/templates/controller-service.yaml
apiVersion: v1
kind: Service
metadata:
  name: ingress-nginx-controller
  namespace: ingress-nginx
spec:
  type: LoadBalancer
  externalTrafficPolicy: Local
  selector:
    app.kubernetes.io/name: ingress-nginx
    app.kubernetes.io/component: controller
  ports:
    - name: http
      port: 80
      targetPort: http
    - name: https
      port: 443
      targetPort: https
---
# Source: ingress-nginx/templates/controller-deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: ingress-nginx-controller
  namespace: ingress-nginx
  labels:
    app.kubernetes.io/name: ingress-nginx
    app.kubernetes.io/component: controller
spec:
  replicas: 2
  selector:
    matchLabels:
      app.kubernetes.io/name: ingress-nginx
      app.kubernetes.io/component: controller
  template:
    metadata:
      labels:
        app.kubernetes.io/name: ingress-nginx
        app.kubernetes.io/component: controller
    spec:
      serviceAccountName: ingress-nginx
      containers:
        - name: controller
          image: registry.k8s.io/ingress-nginx/controller:v1.11.3
          args:
            - /nginx-ingress-controller
            - --publish-service=$(POD_NAMESPACE)/ingress-nginx-controller
            - --election-id=ingress-nginx-leader
            - --controller-class=k8s.io/ingress-nginx
            - --ingress-class=nginx
            - --configmap=$(POD_NAMESPACE)/ingress-nginx-controller
          env:
            - name: POD_NAMESPACE
              valueFrom:
                fieldRef:
                  fieldPath: metadata.namespace
          ports:
            - name: http
              containerPort: 80
            - name: https
              containerPort: 443
          resources:
            requests:
              cpu: 100m
              memory: 90Mi
"""
CONTROLLER_OBJECTS = 4


def quoted(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid double-quoted YAML scalar


def ingress_annotations(rng: random.Random, llm: bool) -> list[tuple[str, str]]:
    prefix = "nginx.ingress.kubernetes.io/"
    pairs: list[tuple[str, str]] = []
    if rng.random() < 0.6:
        pairs.append((prefix + "ssl-redirect", "true"))
    if llm or rng.random() < 0.3:
        timeout = rng.choice(["3600s", "3600", "600", "60", "300", "1800s"])
        pairs.append((prefix + "proxy-read-timeout", timeout))
        if rng.random() < 0.5:
            pairs.append((prefix + "proxy-send-timeout", rng.choice(["3600", "600s", "30"])))
    if llm:
        pairs.append((prefix + "proxy-buffering", rng.choice(["on", "off", "off", "false"])))
        if rng.random() < 0.4:
            pairs.append((prefix + "proxy-request-buffering", rng.choice(["on", "off"])))
        if rng.random() < 0.3:
            pairs.append((prefix + "proxy-http-version", rng.choice(["1.1", "1.0"])))
        if rng.random() < 0.3:
            pairs.append(("tokenpath.dev/streaming", "true"))
        if rng.random() < 0.1:
            pairs.append(("nginx.org/proxy-buffering", "False"))  # the other controller's
    if rng.random() < 0.5:
        pairs.append((prefix + "proxy-body-size", rng.choice(["1m", "8m", "16m", "64m", "0"])))
    if rng.random() < 0.15:
        pairs.append(
            (prefix + "configuration-snippet", 'more_set_headers "X-Request-Start: t=${msec}";\n')
        )
    if rng.random() < 0.2:
        pairs.append((prefix + "enable-cors", "true"))
    return pairs


GATEWAY_PLATFORM = """\
# Source: gateway-helm/templates/gatewayclass.yaml
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata:
  name: eg
spec:
  controllerName: gateway.envoyproxy.io/gatewayclass-controller
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: shared
  namespace: envoy-gateway-system
spec:
  gatewayClassName: eg
  listeners:
    - name: http
      protocol: HTTP
      port: 80
      allowedRoutes:
        namespaces:
          from: All
    - name: https
      protocol: HTTPS
      port: 443
      hostname: "*.example.com"
      tls:
        mode: Terminate
        certificateRefs:
          - name: wildcard-example-com
      allowedRoutes:
        namespaces:
          from: All
"""
GATEWAY_PLATFORM_OBJECTS = 2
ROUTE_TIMEOUTS = [None, None, "1200s", "1200s", "3600s", "0s", "30s", "1.5h"]  # 1.5h: invalid


def namespace_gateway(rng: random.Random, namespace: str) -> list[str]:
    """A namespace's own Gateway ``eg`` with a Gateway-wide BackendTrafficPolicy and a
    ClientTrafficPolicy, the way an Envoy Gateway tenant sets its defaults."""
    target = (
        "  targetRefs:\n    - group: gateway.networking.k8s.io\n      kind: Gateway\n"
        "      name: eg\n"
    )
    btp_http = f"      requestTimeout: {rng.choice(['60s', '300s', '3600s', '0s'])}\n"
    if rng.random() < 0.5:
        btp_http += f"      streamIdleTimeout: {rng.choice(['30s', '300s', '1h'])}\n"
    ctp_http = f"      idleTimeout: {rng.choice(['1h', '15m'])}\n"
    if rng.random() < 0.6:
        ctp_http += f"      streamIdleTimeout: {rng.choice(['60s', '5m', '1h', '0s'])}\n"
    return [
        "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata:\n"
        f"  name: eg\n  namespace: {namespace}\nspec:\n  gatewayClassName: eg\n"
        "  listeners:\n    - name: http\n      protocol: HTTP\n      port: 80\n"
        "    - name: https\n      protocol: HTTPS\n      port: 443\n"
        "      tls:\n        mode: Terminate\n        certificateRefs:\n"
        f"          - name: {namespace}-tls\n",
        "apiVersion: gateway.envoyproxy.io/v1alpha1\nkind: BackendTrafficPolicy\nmetadata:\n"
        f"  name: eg-defaults\n  namespace: {namespace}\nspec:\n"
        + target
        + "  timeout:\n    http:\n"
        + btp_http,
        "apiVersion: gateway.envoyproxy.io/v1alpha1\nkind: ClientTrafficPolicy\nmetadata:\n"
        f"  name: eg-clients\n  namespace: {namespace}\nspec:\n"
        + target
        + "  timeout:\n    http:\n"
        + ctp_http,
    ]


def gateway_objects(
    rng: random.Random,
    name: str,
    namespace: str,
    llm: bool,
    port: int,
    source: Callable[[str], str],
) -> list[str]:
    """An HTTPRoute for the app's Service, maybe a BackendTrafficPolicy on it, now and then
    an Istio VirtualService (mesh callers) or a Contour HTTPProxy for the same Service."""
    host = f"{name}.{rng.choice(ENVS)}.example.com"
    paths = rng.sample(LLM_PATHS if llm else OTHER_PATHS, rng.choice([1, 1, 2, 3]))
    if rng.random() < 0.2:
        parent = "    - name: shared\n      namespace: envoy-gateway-system\n"
    else:
        parent = "    - name: eg\n" + ("      sectionName: https\n" if rng.random() < 0.5 else "")
    rules = ""
    for path in paths:
        timeout = rng.choice(ROUTE_TIMEOUTS) if llm else rng.choice([None, None, "30s"])
        rules += (
            "    - matches:\n        - path:\n            type: PathPrefix\n"
            f"            value: {path}\n"
            + (f"      timeouts:\n        request: {timeout}\n" if timeout else "")
            + f"      backendRefs:\n        - name: {name}\n          port: {port}\n"
        )
    docs = [
        source("httproute")
        + "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata:\n"
        f"  name: {name}\n  namespace: {namespace}\n"
        f"  labels:\n    app.kubernetes.io/name: {name}\n"
        f"spec:\n  parentRefs:\n{parent}  hostnames:\n    - {host}\n  rules:\n{rules}"
    ]
    extra = rng.random()
    if extra < (0.4 if llm else 0.15):
        http = ""
        if rng.random() < 0.8:
            http += f"      requestTimeout: {rng.choice(['0s', '600s', '3600s', '30s'])}\n"
        if not http or rng.random() < 0.5:
            http += f"      streamIdleTimeout: {rng.choice(['60s', '300s', '1h'])}\n"
        docs.append(
            source("backendtrafficpolicy")
            + "apiVersion: gateway.envoyproxy.io/v1alpha1\nkind: BackendTrafficPolicy\n"
            f"metadata:\n  name: {name}-timeouts\n  namespace: {namespace}\nspec:\n"
            "  targetRefs:\n    - group: gateway.networking.k8s.io\n      kind: HTTPRoute\n"
            f"      name: {name}\n  timeout:\n    http:\n" + http
        )
    elif extra < 0.5:
        fqdn = f"{name}.{namespace}.svc.cluster.local"
        docs.append(
            source("virtualservice")
            + "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n"
            f"  name: {name}-mesh\n  namespace: {namespace}\nspec:\n  hosts:\n    - {fqdn}\n"
            f"  http:\n    - match:\n        - uri:\n            prefix: {paths[0]}\n"
            "      timeout: 30s\n"
            f"      route:\n        - destination:\n            host: {fqdn}\n"
            f"            port:\n              number: {port}\n"
        )
    elif extra < 0.58:
        response = rng.choice(["0s", "0s", "infinity", "120s"])
        docs.append(
            source("httpproxy") + "apiVersion: projectcontour.io/v1\nkind: HTTPProxy\nmetadata:\n"
            f"  name: {name}\n  namespace: {namespace}\nspec:\n"
            f"  virtualhost:\n    fqdn: {name}.contour.example.com\n"
            f"  routes:\n    - conditions:\n        - prefix: {paths[0]}\n"
            f"      timeoutPolicy:\n        response: {response}\n"
            f"      services:\n        - name: {name}\n          port: {port}\n"
        )
    return docs


def ingress_object(
    rng: random.Random, name: str, namespace: str, llm: bool, source: Callable[[str], str]
) -> str:
    """An ingress-nginx Ingress for the app's Service."""
    host = f"{name}.{rng.choice(ENVS)}.example.com"
    paths = rng.sample(LLM_PATHS if llm else OTHER_PATHS, rng.choice([1, 1, 2, 3]))
    pairs = ingress_annotations(rng, llm)
    legacy = rng.random() < 0.1  # the pre-1.18 annotation instead of spec.ingressClassName
    if legacy:  # (the API server refuses an Ingress that has both)
        pairs.append(("kubernetes.io/ingress.class", "nginx"))
    note = "".join(f"    {key}: {quoted(value)}\n" for key, value in pairs)
    rules = "".join(
        f"          - path: {path}\n            pathType: Prefix\n"
        f"            backend:\n              service:\n                name: {name}\n"
        "                port:\n                  name: http\n"
        for path in paths
    )
    return (
        source("ingress") + "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n"
        f"  name: {name}\n  namespace: {namespace}\n"
        + (f"  annotations:\n{note}" if note else "")
        + "spec:\n"
        + ("" if legacy else "  ingressClassName: nginx\n")
        + f"  tls:\n    - hosts:\n        - {host}\n      secretName: {name}-tls\n"
        f"  rules:\n    - host: {host}\n      http:\n        paths:\n" + rules
    )


def app_objects(
    rng: random.Random, index: int, team: str, namespace: str, style: str = "nginx"
) -> list[str]:
    """Two to five YAML documents for one app: Deployment, Service, maybe its routes (an
    Ingress for ``style`` "nginx", Envoy-family objects for "gateway") and a ConfigMap."""
    llm = rng.random() < 0.35
    name = f"{rng.choice(WORDS)}-{rng.choice(WORDS)}-{index}"
    if llm:
        image, port, args, health = rng.choice(LLM_IMAGES)
    else:
        image, port, health = rng.choice(OTHER_IMAGES)
        args = []
    labels = (
        f"        app.kubernetes.io/name: {name}\n"
        f"        app.kubernetes.io/part-of: {team}\n"
        f"        app.kubernetes.io/version: {quoted(image.rsplit(':', 1)[-1])}\n"
    )
    docs: list[str] = []
    helm = rng.random() < 0.3

    def source(kind: str) -> str:  # Helm's comment before each rendered template
        return f"# Source: {name}/templates/{kind}.yaml\n" if helm else ""

    resources = (
        "            requests:\n"
        f"              cpu: {rng.choice(['500m', '1', '2', '4'])}\n"
        f"              memory: {rng.choice(['512Mi', '2Gi', '8Gi', '16Gi'])}\n"
        "            limits:\n"
        f"              memory: {rng.choice(['1Gi', '4Gi', '16Gi', '32Gi'])}\n"
    )
    if llm:
        resources += f"              nvidia.com/gpu: {rng.choice([1, 1, 2, 4, 8])}\n"
    arg_lines = "".join(f"            - {quoted(arg)}\n" for arg in args)
    docs.append(
        source("deployment") + "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n"
        f"  name: {name}\n  namespace: {namespace}\n  labels:\n"
        + labels.replace("        ", "    ")
        + f"spec:\n  replicas: {rng.choice([1, 2, 3, 6])}\n"
        f"  selector:\n    matchLabels:\n      app.kubernetes.io/name: {name}\n"
        "  template:\n    metadata:\n      labels:\n" + labels + "    spec:\n      containers:\n"
        f"        - name: {'server' if llm else 'app'}\n"
        f"          image: {image}\n"
        + (f"          args:\n{arg_lines}" if args else "")
        + "          ports:\n"
        f"            - name: http\n              containerPort: {port}\n"
        "              protocol: TCP\n"
        "          env:\n"
        f"            - name: LOG_LEVEL\n              value: {rng.choice(['info', 'debug'])}\n"
        "          readinessProbe:\n            httpGet:\n"
        f"              path: {health}\n              port: http\n"
        f"            periodSeconds: {rng.choice([5, 10, 15])}\n"
        "          resources:\n" + resources
    )
    service_port = rng.choice([80, port])
    docs.append(
        source("service") + "apiVersion: v1\nkind: Service\nmetadata:\n"
        f"  name: {name}\n  namespace: {namespace}\n"
        f"spec:\n  type: ClusterIP\n  selector:\n    app.kubernetes.io/name: {name}\n"
        f"  ports:\n    - name: http\n      port: {service_port}\n"
        "      targetPort: http\n"
    )
    if llm or rng.random() < 0.6:
        if style == "gateway":
            docs.extend(gateway_objects(rng, name, namespace, llm, service_port, source))
        else:
            docs.append(ingress_object(rng, name, namespace, llm, source))
    if rng.random() < 0.15:
        docs.append(
            source("configmap") + "apiVersion: v1\nkind: ConfigMap\nmetadata:\n"
            f"  name: {name}-config\n  namespace: {namespace}\n"
            f"data:\n  MAX_TOKENS: {quoted(str(rng.choice([512, 2048, 8192])))}\n"
            f"  UPSTREAM_TIMEOUT: {quoted(rng.choice(['30s', '600s', '1h']))}\n"
            "  config.yaml: |\n    server:\n      stream: true\n"
        )
    return docs


@dataclass
class Corpus:
    root: Path
    objects: int
    files: int
    bytes: int
    kind: str = "nginx"  # one of CORPORA


class CorpusProblem(Exception):
    """The generated corpus does not lint as intended (input errors, no Envoy routes): the
    timings would measure the wrong work."""


CORPORA = ("nginx", "gateway", "mixed")


def cluster_wide(corpus: str) -> list[tuple[str, str, int]]:
    """The cluster-wide objects of a corpus: (folder, YAML, objects)."""
    nginx = ("ingress-nginx", CONTROLLER, CONTROLLER_OBJECTS)
    gateway = ("envoy-gateway", GATEWAY_PLATFORM, GATEWAY_PLATFORM_OBJECTS)
    return {"nginx": [nginx], "gateway": [gateway], "mixed": [nginx, gateway]}[corpus]


def generate(root: Path, objects: int, seed: int, corpus: str = "nginx") -> Corpus:
    """Write ``objects`` Kubernetes objects under ``root``; the same seed gives the same bytes.
    ``corpus``: apps routed by ingress-nginx Ingresses ("nginx"), by the Envoy family
    ("gateway": Envoy Gateway HTTPRoutes and policies, some Istio and Contour) or half each
    ("mixed"); for the Envoy family each namespace also gets its Gateway and policies."""
    rng = random.Random(seed)
    root.mkdir(parents=True)
    written, files, size = 0, 0, 0
    for folder_name, text, count in cluster_wide(corpus):
        platform_dir = root / "platform" / folder_name
        platform_dir.mkdir(parents=True)
        (platform_dir / "controller.yaml").write_text(text, encoding="utf-8")
        written, files, size = written + count, files + 1, size + len(text)
    gateways: set[str] = set()  # namespaces that have their Gateway already
    app = 0
    while written < objects:
        team = TEAMS[files % len(TEAMS)]
        namespace = f"{team}-{rng.choice(ENVS)}"
        target = min(rng.randint(50, 100), objects - written)
        docs: list[str] = []
        if corpus != "nginx" and namespace not in gateways:
            gateways.add(namespace)
            docs.extend(namespace_gateway(rng, namespace))
        while len(docs) < target:
            gateway = corpus == "gateway" or (corpus == "mixed" and app % 2 == 1)
            docs.extend(app_objects(rng, app, team, namespace, "gateway" if gateway else "nginx"))
            app += 1
        docs = docs[:target]  # the last app of the corpus may be cut short: still valid objects
        folder = root / "clusters" / f"team-{team}" / namespace / f"batch-{files // 40:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        suffix = ".yml" if files % 7 == 0 else ".yaml"
        text = "---\n".join(docs)
        (folder / f"apps-{files:05d}{suffix}").write_text(text, encoding="utf-8")
        written += len(docs)
        files += 1
        size += len(text)
    return Corpus(root, written, files, size, corpus)


# --------------------------------------------------------------------------------------------
# Measurement


@dataclass
class Run:
    seconds: float | None  # None: timed out or failed to start
    peak_rss: int  # bytes
    exit_code: int | None
    note: str  # "" when the run went as expected


def tree_pss(launcher: psutil.Process) -> int:
    """Proportional set size summed over the launcher's descendants (forked workers share
    pages with their parent; PSS counts each shared page once in all)."""
    total = 0
    try:
        members = launcher.children(recursive=True)
    except psutil.Error:
        return 0
    for member in members:
        with contextlib.suppress(psutil.Error, AttributeError):
            total += member.memory_full_info().pss
    return total


# The measured command is forked by this small launcher, not by the benchmark itself: on
# Linux a child's ru_maxrss starts at the RSS of the process that forked it (the copied or,
# with vfork, shared address space is what exec replaces), so a child of this process, which
# holds parsed JSON reports, would report at least this process's own peak. The launcher's
# children start at its ~9 MB. It times fork to reap and writes "seconds maxrss_kib exit".
LAUNCHER = """
import os, sys, time
out, command = sys.argv[1], sys.argv[2:]
start = time.monotonic()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(command[0], command)
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
seconds = time.monotonic() - start
with open(out, "w") as handle:
    handle.write(f"{seconds} {usage.ru_maxrss} {os.waitstatus_to_exitcode(status)}")
"""


def measure(command: Sequence[str], output: Path, timeout: float) -> Run:
    """Run ``command`` (stdout to ``output``) through the launcher, in a fresh process group;
    wall time and peak memory."""
    stats = output.with_suffix(".stats")
    launcher = [sys.executable, "-I", "-c", LAUNCHER, str(stats), *command]
    with open(output, "wb") as out, open(output.with_suffix(".err"), "wb") as err:
        start = time.monotonic()
        child = subprocess.Popen(launcher, stdout=out, stderr=err, start_new_session=True)
        process = psutil.Process(child.pid)
        peak, next_poll = 0, 0.0
        while child.poll() is None:
            if time.monotonic() >= next_poll:  # a few ms per poll: keep it off the hot path
                peak = max(peak, tree_pss(process))
                next_poll = time.monotonic() + POLL_SECONDS
            if time.monotonic() - start > timeout:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()
                return Run(None, peak, None, f"timeout after {timeout:.0f} s")
            time.sleep(0.01)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(child.pid, signal.SIGKILL)  # leftover workers, if any
    try:
        seconds, maxrss_kib, code = stats.read_text(encoding="utf-8").split()
    except (OSError, ValueError):
        return Run(None, peak, child.returncode, f"launcher failed (exit {child.returncode})")
    return Run(float(seconds), max(peak, int(maxrss_kib) * 1024), int(code), "")


def tokenpath_command(directory: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "tokenpath",
        "lint",
        str(directory),
        "--format",
        "json",
        "--all-routes",
    ]


def checkov_command(checkov: str, directory: Path) -> list[str]:
    return [
        checkov,
        "-d",
        str(directory),
        "--framework",
        "kubernetes",
        "--quiet",
        "--compact",
        "-o",
        "json",
    ]


def last_line(path: Path) -> str:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return ""
    return lines[-1][:160] if lines else ""


def run_tokenpath(corpus: Corpus, work: Path, timeout: float) -> tuple[Run, str]:
    """The run and a summary of its report (findings, errors), or why the run is not valid."""
    output = work / f"tokenpath-{corpus.objects}.json"
    run = measure(tokenpath_command(corpus.root), output, timeout)
    if run.seconds is None:
        return run, run.note
    if run.exit_code not in (0, 1):
        run.note = f"exit {run.exit_code}: {last_line(output.with_suffix('.err'))}"
        if run.exit_code != 2:
            run.seconds = None
            return run, run.note
    try:
        report = json.loads(output.read_text(encoding="utf-8"))
        summary = f"{len(report['findings']):,} findings, {len(report['errors']):,} input errors"
    except (OSError, ValueError, KeyError, TypeError) as exc:
        run.seconds = None
        run.note = run.note or f"unreadable JSON report ({exc.__class__.__name__})"
        return run, run.note
    if report["errors"]:
        first = report["errors"][0]
        raise CorpusProblem(
            f"{corpus.objects:,}-object {corpus.kind} corpus: {summary}; "
            f"first: {json.dumps(first)[:300]}"
        )
    if corpus.kind != "nginx":  # Envoy-family routes were found and resolved
        route_timeouts = sum(1 for finding in report["findings"] if finding["code"] == "TP204")
        if not route_timeouts:
            raise CorpusProblem(
                f"{corpus.objects:,}-object {corpus.kind} corpus: no TP204 finding, so no "
                "Envoy-family route was resolved"
            )
        summary += f", {route_timeouts:,} of them TP204"
    return run, summary


def run_checkov(checkov: str, corpus: Corpus, work: Path, timeout: float) -> tuple[Run, str]:
    output = work / f"checkov-{corpus.objects}.json"
    run = measure(checkov_command(checkov, corpus.root), output, timeout)
    if run.seconds is None:
        return run, run.note
    if run.exit_code not in (0, 1):
        run.note = f"exit {run.exit_code}: {last_line(output.with_suffix('.err'))}"
        run.seconds = None
        return run, run.note
    try:
        report = json.loads(output.read_text(encoding="utf-8"))
        reports = report if isinstance(report, list) else [report]
        summary = next(r["summary"] for r in reports if r.get("check_type") == "kubernetes")
        text = (
            f"{summary['resource_count']:,} resources, {summary['passed']:,} passed, "
            f"{summary['failed']:,} failed checks, {summary['parsing_errors']} parsing errors"
        )
    except (OSError, ValueError, KeyError, TypeError, StopIteration) as exc:
        text = f"report not understood ({exc.__class__.__name__}); timing kept"
    return run, text


def find_checkov(explicit: str | None) -> str | None:
    if explicit:
        return explicit if shutil.which(explicit) or os.access(explicit, os.X_OK) else None
    return shutil.which("checkov") or (
        CHECKOV_FALLBACK if os.access(CHECKOV_FALLBACK, os.X_OK) else None
    )


def checkov_version(checkov: str) -> str:
    try:
        done = subprocess.run([checkov, "--version"], capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unknown ({exc.__class__.__name__})"
    return done.stdout.strip() or "unknown"


def machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            names = [line.split(":", 1)[1].strip() for line in cpuinfo if "model name" in line]
        model = names[0] if names else model
    except OSError:
        pass
    memory = psutil.virtual_memory().total / 1024**3
    return (
        f"{model}, {os.cpu_count()} CPUs, {memory:.0f} GiB, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}"
    )


def took(run: Run) -> str:
    return f"{run.seconds:.2f} s" if run.seconds is not None else f"FAILED ({run.note})"


def mb(size: float) -> float:
    return size / 1024**2


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="corpus sizes in objects")
    parser.add_argument(
        "--checkov",
        default=None,
        help=f"checkov binary (default: on PATH, else {CHECKOV_FALLBACK})",
    )
    parser.add_argument(
        "--checkov-max", type=int, default=10_000, help="largest corpus checkov is run on"
    )
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per run")
    parser.add_argument("--seed", type=int, default=4, help="corpus seed")
    parser.add_argument("--keep", action="store_true", help="keep the corpora (path printed)")
    parser.add_argument(
        "--corpus",
        choices=CORPORA,
        default="nginx",
        help="apps routed by ingress-nginx, by the Envoy family, or half each (default nginx)",
    )
    args = parser.parse_args()
    sizes = sorted({int(size) for size in args.sizes.split(",")})
    platform_objects = sum(count for _, _, count in cluster_wide(args.corpus))
    if min(sizes) <= platform_objects:
        parser.error(f"sizes must be above {platform_objects} (the controller objects)")

    checkov = find_checkov(args.checkov)
    print(f"machine: {machine()}")
    if checkov is None:
        print(
            f"checkov: not found; tokenpath only. Install it apart from ours with:\n  "
            f"{CHECKOV_INSTALL}\n  and pass --checkov /tmp/venv-checkov/bin/checkov"
        )
    else:
        print(
            f"checkov: {checkov_version(checkov)} ({checkov}), "
            f"on sizes <= {args.checkov_max:,} only (slower beyond)"
        )
    print(f"tokenpath: {' '.join(tokenpath_command(Path('DIR')))}")
    if checkov:
        print(f"checkov:   {' '.join(checkov_command('checkov', Path('DIR')))}")

    work = Path(tempfile.mkdtemp(prefix="tokenpath-lint-bench-"))
    try:
        corpora: dict[int, Corpus] = {}
        for size in sizes:
            t0 = time.monotonic()
            corpora[size] = generate(work / f"corpus-{size}", size, args.seed, args.corpus)
            corpus = corpora[size]
            print(
                f"{args.corpus} corpus {size:,}: {corpus.files:,} files, "
                f"{mb(corpus.bytes):.1f} MB, written in {time.monotonic() - t0:.1f} s"
            )
        baseline_dir = work / "corpus-baseline"
        baseline_dir.mkdir()
        (baseline_dir / "controller.yaml").write_text(CONTROLLER, encoding="utf-8")
        baseline = Corpus(baseline_dir, CONTROLLER_OBJECTS, 1, len(CONTROLLER))

        smallest = corpora[sizes[0]]
        warm, summary = run_tokenpath(smallest, work, args.timeout)
        print(f"\nwarm-up tokenpath on {smallest.objects:,}: {took(warm)}, {summary}")
        if checkov:
            warm, summary = run_checkov(checkov, smallest, work, args.timeout)
            print(f"warm-up checkov on {smallest.objects:,}: {took(warm)}, {summary}")
        base, _ = run_tokenpath(baseline, work, args.timeout)
        print(
            f"tokenpath baseline ({CONTROLLER_OBJECTS} objects, one file): {took(base)}, "
            f"peak RSS {mb(base.peak_rss):.1f} MB"
        )

        header = (
            f"\n{'objects':>8} {'files':>6} {'tokenpath s':>12} {'objects/s':>10} "
            f"{'peak RSS MB':>12} {'RSS/1k MB':>10} {'checkov s':>10} "
            f"{'checkov RSS MB':>15} {'speedup':>8}"
        )
        print(header)
        rows: list[tuple[Corpus, Run, Run | None]] = []
        notes: list[str] = []
        for size in sizes:
            corpus = corpora[size]
            tp, tp_summary = run_tokenpath(corpus, work, args.timeout)
            notes.append(f"tokenpath {size:,}: {tp_summary}")
            ck: Run | None = None
            if checkov and size <= args.checkov_max:
                ck, ck_summary = run_checkov(checkov, corpus, work, args.timeout)
                notes.append(f"checkov {size:,}: {ck_summary}")
            rows.append((corpus, tp, ck))
            per_k = (tp.peak_rss - base.peak_rss) / (corpus.objects / 1000)
            if tp.seconds is not None:
                tp_cols = (
                    f"{tp.seconds:>12.2f} {corpus.objects / tp.seconds:>10,.0f} "
                    f"{mb(tp.peak_rss):>12.1f} {mb(per_k):>10.2f}"
                )
            else:
                tp_cols = f"{'failed':>12} {'-':>10} {'-':>12} {'-':>10}"
            if ck is None:
                why = "no checkov" if not checkov else f"> {args.checkov_max:,}"
                ck_cols = f"{'skipped':>10} {why:>15} {'-':>8}"
            elif ck.seconds is None:
                timed_out = ck.note.startswith("timeout")
                label = "timeout" if timed_out else "failed"
                bound = f">{args.timeout / tp.seconds:.0f}x" if timed_out and tp.seconds else "-"
                ck_cols = f"{label:>10} {mb(ck.peak_rss):>15.1f} {bound:>8}"
            else:
                speedup = f"{ck.seconds / tp.seconds:.1f}x" if tp.seconds else "-"
                ck_cols = f"{ck.seconds:>10.2f} {mb(ck.peak_rss):>15.1f} {speedup:>8}"
            print(f"{corpus.objects:>8,} {corpus.files:>6,} {tp_cols} {ck_cols}", flush=True)
        print()
        for note in notes:
            print(f"  {note}")
        if checkov and sizes[-1] > args.checkov_max:
            print(
                f"  checkov skipped above {args.checkov_max:,} objects (--checkov-max): "
                "it would take too long"
            )
        return verdict(rows, base, checkov is not None, args.timeout)
    except CorpusProblem as problem:
        print(f"\nCORPUS PROBLEM, no numbers: {problem}", file=sys.stderr)
        return 2
    finally:
        if args.keep:
            print(f"corpora kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def verdict(
    rows: list[tuple[Corpus, Run, Run | None]], base: Run, with_checkov: bool, timeout: float
) -> int:
    ok = True
    ten_k = [(c, tp) for c, tp, _ in rows if c.objects == 10_000]
    if ten_k and ten_k[0][1].seconds is not None:
        seconds = ten_k[0][1].seconds
        met = seconds <= TARGET_SECONDS_10K
        ok &= met
        print(
            f"\ntarget 10k objects <= {TARGET_SECONDS_10K:.0f} s: {seconds:.2f} s, "
            f"{'met' if met else 'MISSED'}"
        )
    else:
        ok = False
        print("\ntarget 10k objects <= 5 s: not measured (no successful 10,000 run)")
    # A checkov run killed at the timeout still bounds the speedup from below.
    speedups = [
        (ck.seconds or timeout) / tp.seconds
        for _, tp, ck in rows
        if ck is not None and tp.seconds and (ck.seconds or ck.note.startswith("timeout"))
    ]
    if speedups:
        worst = min(speedups)
        met = worst >= TARGET_SPEEDUP
        ok &= met
        print(
            f"target >= {TARGET_SPEEDUP:.0f}x faster than checkov: smallest speedup "
            f"{worst:.1f}x, {'met' if met else 'MISSED'}"
        )
    else:
        ok &= not with_checkov
        print("target >= 10x faster than checkov: not measured")
    measured = [(c, tp) for c, tp, _ in rows if tp.seconds is not None]
    if len(measured) >= 2:
        per_k = [(tp.peak_rss - base.peak_rss) / (c.objects / 1000) for c, tp in measured]
        growth = per_k[-1] / per_k[-2] if per_k[-2] > 0 else float("inf")
        met = growth <= LINEAR_SLACK
        ok &= met
        print(
            f"target linear memory: RSS per 1k objects {mb(int(per_k[-2])):.2f} MB at "
            f"{measured[-2][0].objects:,}, {mb(int(per_k[-1])):.2f} MB at "
            f"{measured[-1][0].objects:,} ({growth:.2f}x, limit {LINEAR_SLACK}x): "
            f"{'met' if met else 'MISSED'}"
        )
    else:
        ok = False
        print("target linear memory: not measured (fewer than two successful sizes)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
