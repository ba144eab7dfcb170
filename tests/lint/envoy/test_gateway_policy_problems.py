"""``policy_problems``: Envoy Gateway policies without effect (a target not in the input, a
Gateway policy shadowed on every route)."""

from __future__ import annotations

from gatewaykit import ON_ROUTE, btp, ctp, eg_stack, http_route, line_of, load

from tokenpath.lint.envoy.policies import PolicyProblem, policy_problems


def problems(text: str) -> list[PolicyProblem]:
    objects, errors = load(text)
    assert errors == []
    return policy_problems(objects)


TIMEOUT = "  timeout:\n    http:\n      requestTimeout: 120s\n"


def test_missing_route_target_is_reported_at_its_line() -> None:
    text = eg_stack() + http_route(name="other") + btp("p", TIMEOUT, target=ON_ROUTE)
    [problem] = problems(text)
    assert str(problem.policy) == "BackendTrafficPolicy/ai/p"
    assert problem.line == line_of(text, "  targetRef:") + 1  # the target's map
    assert problem.message == "targets HTTPRoute ai/chat, which is not in the input"


def test_missing_gateway_target_of_a_ctp() -> None:
    target = "    kind: Gateway\n    name: gone\n"
    [problem] = problems(eg_stack() + ctp("c", "  connection:\n    bufferLimit: 1Mi\n", target))
    assert problem.message == "targets Gateway ai/gone, which is not in the input"


def test_present_targets_give_nothing() -> None:
    text = eg_stack() + http_route() + btp("p", TIMEOUT, target=ON_ROUTE) + ctp("c", TIMEOUT)
    assert problems(text) == []


def test_ai_gateway_route_counts_as_its_generated_http_route() -> None:
    ai = (
        "---\napiVersion: aigateway.envoyproxy.io/v1alpha1\nkind: AIGatewayRoute\n"
        "metadata:\n  name: chat\n  namespace: ai\nspec:\n  parentRefs: [{name: eg}]\n"
        "  rules:\n    - backendRefs: [{name: llama}]\n"
    )
    assert problems(eg_stack() + ai + btp("p", TIMEOUT, target=ON_ROUTE)) == []


def test_a_lone_policy_file_is_not_noise() -> None:
    # No Gateway API object of namespace "ai" in the input: the target may live elsewhere.
    assert problems(btp("p", TIMEOUT, target=ON_ROUTE)) == []
    assert (
        problems(eg_stack().replace("namespace: ai", "namespace: edge") + btp("p", TIMEOUT)) == []
    )


def test_gateway_btp_shadowed_on_every_route() -> None:
    text = (
        eg_stack()
        + http_route()
        + btp("gw", TIMEOUT)
        + btp("x", "  timeout:\n    http:\n      requestTimeout: 900s\n", target=ON_ROUTE)
    )
    [problem] = problems(text)
    assert str(problem.policy) == "BackendTrafficPolicy/ai/gw"
    assert problem.line == line_of(text, "  targetRef:") + 1  # its Gateway target
    assert problem.message.startswith(
        "shadowed by BackendTrafficPolicy ai/x on every route of Gateway ai/eg"
    )


def test_gateway_btp_not_shadowed_when_one_route_has_no_policy() -> None:
    text = (
        eg_stack()
        + http_route()
        + http_route(name="embed", path="/v1/embeddings")
        + btp("gw", TIMEOUT)
        + btp("x", "  timeout:\n    http:\n      requestTimeout: 900s\n", target=ON_ROUTE)
    )
    assert problems(text) == []


def test_merge_type_shadows_only_when_every_field_is_set_by_the_route() -> None:
    merge = "  mergeType: StrategicMerge\n"
    both = "  timeout:\n    http:\n      requestTimeout: 900s\n      streamIdleTimeout: 5m\n"
    gateway_policy = btp(
        "gw", "  timeout:\n    http:\n      requestTimeout: 1s\n      streamIdleTimeout: 1m\n"
    )
    partial = eg_stack() + http_route() + gateway_policy + btp("x", merge + TIMEOUT, ON_ROUTE)
    assert problems(partial) == []
    full = eg_stack() + http_route() + gateway_policy + btp("x", merge + both, ON_ROUTE)
    assert [p.message.split(":")[0] for p in problems(full)] == [
        "shadowed by BackendTrafficPolicy ai/x on every route of Gateway ai/eg"
    ]


def test_gateway_btp_without_routes_is_not_reported() -> None:
    assert problems(eg_stack() + btp("gw", TIMEOUT)) == []
