"""The rules for a stream that failed: cut short (CUT) or not a valid stream (INVALID).

A cut before the headers is an error status or a closed connection. After the headers, the
silence before the close tells an idle (read) timer from a total (route) timer; an Envoy hop
delays the FIN by its delayed_close_timeout, which is allowed for.
"""

from __future__ import annotations

from tokenpath.clock import NS_PER_S
from tokenpath.probe.measurement import EndState
from tokenpath.probe.metrics import diffs_s, percentile
from tokenpath.probe.safe_text import sanitize
from tokenpath.probe.verdict import CutInfo, CutKind, Finding, Stream, VerdictKind
from tokenpath.stream.dialects import Dialect, Kind
from tokenpath.units import format_bytes, format_seconds_or_dash

_ENVOY_HOPS = frozenset({"envoy", "istio"})


# --- CUT ------------------------------------------------------------------------------------


def find_cut(st: Stream) -> Finding | None:
    tl, es = st.timeline, st.m.end_state
    if es is EndState.HTTP_ERROR and tl.status is not None:
        at = st.s(tl.t_headers_ns) if tl.t_headers_ns is not None else st.s(tl.t_end_ns)
        cut = CutInfo(CutKind.BEFORE_HEADERS, at, tl.status)
        return Finding(VerdictKind.CUT, "http_error", _http_error_evidence(st, at), cut=cut)
    if tl.status is None and es in (
        EndState.RESET,
        EndState.TRUNCATED_CHUNKED,
        EndState.EOF_NO_TERMINATOR,
    ):
        at = st.s(tl.t_end_ns)
        how = "was reset" if es is EndState.RESET else "closed"
        evidence = (
            f"the connection {how} at {format_seconds_or_dash(at)} before any response headers "
            "arrived",
        )
        return Finding(
            VerdictKind.CUT, "no_headers", evidence, cut=CutInfo(CutKind.BEFORE_HEADERS, at, None)
        )
    if tl.status is None or not 200 <= tl.status < 300:
        return None
    if es not in (EndState.EOF_NO_TERMINATOR, EndState.TRUNCATED_CHUNKED, EndState.RESET):
        return None
    return _cut_after_headers(st)


def _cut_after_headers(st: Stream) -> Finding:
    tl, th = st.timeline, st.th
    t_end = tl.t_end_ns
    read_times = sorted(r.t_ns for r in tl.reads)
    last_activity = read_times[-1] if read_times else (tl.t_headers_ns or tl.t_start_ns)
    silence = max(0.0, (t_end - last_activity) / NS_PER_S)
    gaps = diffs_s(read_times)
    pace = percentile(gaps, 90)
    at = st.s(t_end)
    ending = _ending_words(st)
    evidence = [
        f"the {tl.status} response stopped at {format_seconds_or_dash(at)} after {st.n} content "
        f"events: {ending}"
    ]
    idle_limit = max(th.idle_gap_min_s, th.idle_gap_factor * (pace or 0.0))
    envoy = any(h.name in _ENVOY_HOPS for h in st.hops)
    delayed_close = (
        envoy
        and pace is not None
        and th.delayed_close_s - th.delayed_close_tolerance_s
        <= silence
        <= th.delayed_close_s + pace + th.delayed_close_tolerance_s
    )
    pace_words = (
        f"reads had come every {format_seconds_or_dash(pace)} or less (p90)"
        if pace is not None
        else ""
    )
    server_error = next((o for o in st.m.observed if o.info.kind is Kind.ERROR), None)
    if server_error is not None:
        kind = CutKind.UNKNOWN
        evidence.append(
            "the server sent an error inside the stream at "
            f"{format_seconds_or_dash(st.s(server_error.t_ns))}: "
            f"'{sanitize(server_error.info.error, 80)}'; the server ended it, probably not the path"
        )
    elif delayed_close:
        kind = CutKind.TOTAL
        evidence.append(
            f"the final {format_seconds_or_dash(silence)} gap matches Envoy's "
            f"delayed_close_timeout (the FIN arrives {th.delayed_close_s:g} s after a cut; "
            f"{pace_words}), so the cut itself was at "
            f"~{format_seconds_or_dash(at - th.delayed_close_s)} while data flowed: a total "
            "(route) timer"
        )
    elif silence >= idle_limit:
        kind = CutKind.IDLE
        before = f"; {pace_words}" if pace_words else ""
        evidence.append(
            f"the connection closed after {format_seconds_or_dash(silence)} of silence{before}: "
            "the signature of an idle (read) timer"
        )
    elif pace is not None and silence <= max(th.pace_factor * pace, 2 * th.hold_s):
        kind = CutKind.TOTAL
        evidence.append(
            f"it closed {format_seconds_or_dash(silence)} after the last read, while data flowed "
            f"at its normal pace ({pace_words}): a total (request/route) timer, not an idle one"
        )
    else:
        kind = CutKind.UNKNOWN
        evidence.append(
            f"the last {format_seconds_or_dash(silence)} before the close were silent, longer than "
            f"the normal pace but shorter than an idle cut ({format_seconds_or_dash(idle_limit)}): "
            "an idle or a total timer, a crash or a disconnect"
        )
    if envoy and not delayed_close and kind is not CutKind.UNKNOWN:
        evidence.append(
            "an Envoy hop was seen; its default delayed_close_timeout (1 s) would have delayed "
            "the FIN after the cut, which did not happen here (it is set lower on this path)"
        )
    cut = CutInfo(kind, at, st.timeline.status, silence)
    return Finding(VerdictKind.CUT, kind.value, tuple(evidence), cut=cut)


def _ending_words(st: Stream) -> str:
    terminator = _terminator_name(st.m.dialect)
    match st.m.end_state:
        case EndState.TRUNCATED_CHUNKED:
            return f"the connection closed inside the body (framing incomplete), no {terminator}"
        case EndState.RESET:
            return f"the connection was reset, no {terminator}"
        case _:
            return f"the body ended without {terminator}"


def _terminator_name(dialect: Dialect) -> str:
    match dialect:
        case Dialect.TGI:
            return "the final event (generated_text)"
        case Dialect.OLLAMA:
            return '"done": true'
        case _:
            return "[DONE]"


_CLIENT_ERRORS = {
    400: "the request was rejected: check the model name and the request body",
    401: "check the API key (--api-key-env)",
    403: "the key lacks permission, or a WAF/allow-list blocked the request",
    404: "check the URL path and the model name",
    405: "check the method and the path",
    408: "a request timeout at a hop while the request body was arriving (Envoy stream idle)",
    413: "the request body is too large for a hop (nginx client_max_body_size 1m by default)",
    415: "check the Content-Type of the request",
    422: "the request was rejected: check the request body",
    429: "rate limited: retry later or with another key",
}


def _http_error_evidence(st: Stream, at: float) -> tuple[str, ...]:
    tl = st.timeline
    status = tl.status or 0
    reason = f" {sanitize(tl.reason, 40)}" if tl.reason else ""
    first = f"the response was {status}{reason} at {format_seconds_or_dash(at)}: no stream started"
    if status < 500:
        advice = _CLIENT_ERRORS.get(status, "a client or configuration error, not a path timeout")
        evidence = [f"{first}; {advice}"]
    else:
        evidence = [f"{first}; a hop or the server gave up before the response headers"]
    if tl.body_preview:
        evidence.append(f"body: '{sanitize(tl.body_preview.strip(), 80)}'")
    return tuple(evidence)


# --- INVALID --------------------------------------------------------------------------------


def find_invalid(st: Stream) -> Finding | None:
    tl, es = st.timeline, st.m.end_state
    if tl.status is not None and (tl.status < 200 or 300 <= tl.status < 400):
        return Finding(
            VerdictKind.INVALID,
            "not_a_stream",
            (f"status {tl.status} is not a streaming response; probe the final URL",),
        )
    if es is EndState.PROTOCOL_ERROR:
        detail = f": {sanitize(tl.error, 120)}" if tl.error else ""
        return Finding(
            VerdictKind.INVALID,
            "protocol_error",
            (
                "the response broke HTTP or the stream framing at "
                f"{format_seconds_or_dash(st.s(tl.t_end_ns))}{detail}",
            ),
        )
    if es is EndState.TOO_LARGE:
        size = format_bytes(st.m.metrics.body_bytes)
        return Finding(
            VerdictKind.INVALID,
            "too_large",
            (f"the probe stopped at its --max-bytes cap ({size})",),
        )
    incomplete = [o for o in st.m.observed if o.incomplete]
    if incomplete:
        sentence = (
            f"the body ended inside an unterminated event ({incomplete[0].size} bytes without "
            "the closing blank line or newline)"
        )
        return Finding(VerdictKind.INVALID, "incomplete_event", (sentence,))
    bad = [o for o in st.m.observed if o.info.kind is Kind.INVALID]
    if bad:
        sentence = (
            f"{len(bad)} event(s) were not valid {st.m.dialect.value} payloads (first at "
            f"{format_seconds_or_dash(st.s(bad[0].t_ns))}: {bad[0].info.error})"
        )
        return Finding(VerdictKind.INVALID, "invalid_event", (sentence,))
    return None
