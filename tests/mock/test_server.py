"""The mock over real loopback sockets: endpoints, framing, faults, stamps and timing.

Timing assertions use generous margins (tens of milliseconds): they check the schedule is
honoured, not the scheduler's precision.
"""

from __future__ import annotations

import itertools
import json
import socket

import httpx
import pytest
from mockwire import RawResponse, build_request, dechunk, events, exchange, payload, stamp

from tokenpath.mock.scenarios import Scenario
from tokenpath.mock.server import MockHandle, run_in_thread
from tokenpath.mock.text import generate_text
from tokenpath.stream.dialects import Dialect, Kind, interpret
from tokenpath.stream.events import NDJSONLine, SSEComment, SSEMessage

FAST = "ttft=0;itl=1ms"
MS = 1_000_000


def stream(
    mock: MockHandle,
    path: str = "/v1/chat/completions",
    scenario: str = FAST,
    body: object = None,
    **options: object,
) -> RawResponse:
    request_body = {"stream": True} if body is None else body
    request = build_request(path, request_body, scenario=scenario, **options)  # type: ignore[arg-type]
    return exchange(mock.port, request)


def sse(response: RawResponse) -> list[bytes]:
    return events(response.decoded)


def meaning(dialect: Dialect, event: bytes) -> Kind:
    if event.startswith(b":"):
        return interpret(dialect, SSEComment(event[1:].decode().strip())).kind
    if dialect is Dialect.OLLAMA:
        return interpret(dialect, NDJSONLine(event.decode())).kind
    return interpret(dialect, SSEMessage(event.split(b":", 1)[1].decode().strip())).kind


# ---------------------------------------------------------------------------- endpoints


def test_chat_stream(mock_server: MockHandle) -> None:
    response = stream(mock_server, scenario=FAST + ";tokens=5")
    assert response.status == 200
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["transfer-encoding"] == "chunked"
    assert response.end == "complete"
    parts = sse(response)
    kinds = [meaning(Dialect.OPENAI_CHAT, part) for part in parts]
    assert kinds == [Kind.EMPTY] + [Kind.CONTENT] * 5 + [Kind.DONE]
    assert payload(parts[0])["choices"] == [
        {
            "index": 0,
            "delta": {"role": "assistant", "content": ""},
            "logprobs": None,
            "finish_reason": None,
        }
    ]
    chunks = [payload(part) for part in parts[1:-1]]
    text = "".join(str(chunk["choices"][0]["delta"]["content"]) for chunk in chunks)  # type: ignore[index]
    assert text == generate_text(0, 5)
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"  # type: ignore[index]
    assert str(chunks[0]["id"]).startswith("chatcmpl-")
    assert chunks[0]["model"] == "tokenpath-mock"
    assert parts[-1] == b"data: [DONE]"
    stamps = [stamp(part) for part in parts[:-1]]
    assert all(s is not None for s in stamps)
    assert stamps == sorted(stamps)  # type: ignore[type-var]


@pytest.mark.parametrize(
    ("path", "dialect", "separator", "ctype"),
    [
        (
            "/v1/completions",
            Dialect.OPENAI_COMPLETIONS,
            b"\n\n",
            "text/event-stream; charset=utf-8",
        ),
        ("/generate_stream", Dialect.TGI, b"\n\n", "text/event-stream"),
        ("/api/chat", Dialect.OLLAMA, b"\n", "application/x-ndjson"),
        ("/api/generate", Dialect.OLLAMA, b"\n", "application/x-ndjson"),
    ],
)
def test_other_streaming_endpoints(
    mock_server: MockHandle, path: str, dialect: Dialect, separator: bytes, ctype: str
) -> None:
    response = stream(mock_server, path, FAST + ";tokens=4;seed=9")
    assert response.headers["content-type"] == ctype
    parts = events(response.decoded, separator)
    interpretations = [
        interpret(dialect, NDJSONLine(p.decode()))
        if dialect is Dialect.OLLAMA
        else interpret(dialect, SSEMessage(p.split(b":", 1)[1].decode().strip()))
        for p in parts
    ]
    assert "".join(i.text for i in interpretations) == generate_text(9, 4)
    assert interpretations[-1].done
    if dialect is Dialect.TGI:
        final = payload(parts[-1])
        assert final["generated_text"] == generate_text(9, 4)
        assert final["details"] == {"finish_reason": "length", "generated_tokens": 4, "seed": None}
    if dialect is Dialect.OLLAMA:
        assert interpretations[-1].completion_tokens == 4
    assert all(i.send_ns is not None for i in interpretations if i.kind is not Kind.DONE or i.text)


def test_usage_chunk_and_max_tokens(mock_server: MockHandle) -> None:
    body = {"stream": True, "max_tokens": 3, "stream_options": {"include_usage": True}}
    parts = sse(stream(mock_server, scenario=FAST + ";tokens=10", body=body))
    usage = payload(parts[-2])
    assert usage["choices"] == []
    assert usage["usage"] == {"prompt_tokens": 1, "completion_tokens": 3, "total_tokens": 4}
    assert payload(parts[-3])["choices"][0]["finish_reason"] == "length"  # type: ignore[index]
    assert parts[-1] == b"data: [DONE]"


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/v1/chat/completions", ("choices", 0, "message", "content")),
        ("/v1/completions", ("choices", 0, "text")),
        ("/api/chat", ("message", "content")),
        ("/api/generate", ("response",)),
    ],
)
def test_non_streamed_responses(
    mock_server: MockHandle, path: str, field: tuple[str | int, ...]
) -> None:
    response = httpx.post(
        mock_server.url + path,
        json={"stream": False},
        headers={"X-Tokenpath-Scenario": "ttft=10ms;itl=1ms;tokens=6"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    value: object = response.json()
    for key in field:
        value = value[key]  # type: ignore[index]
    assert value == generate_text(0, 6)
    assert isinstance(response.json()["tokenpath_send_ns"], int)


def test_other_routes(mock_server: MockHandle) -> None:
    with httpx.Client(base_url=mock_server.url) as client:
        health = client.get("/healthz")
        assert (health.status_code, health.text) == (200, "ok")
        assert client.get("/v1/models").json()["data"][0]["id"] == "tokenpath-mock"
        missing = client.post("/v2/nothing", json={})
        assert missing.status_code == 404
        assert missing.json()["error"]["type"] == "not_found_error"
        assert client.get("/v1/chat/completions").status_code == 405
        bad = client.post("/v1/chat/completions", content=b"{oops")
        assert bad.status_code == 400
        assert "JSON" in bad.json()["error"]["message"]
        scenario = client.post(
            "/v1/chat/completions", json={}, headers={"X-Tokenpath-Scenario": "warp=9"}
        )
        assert scenario.status_code == 400
        assert "'warp'" in scenario.json()["error"]["message"]


def test_query_parameter_scenario(mock_server: MockHandle) -> None:
    path = "/v1/completions?tokenpath-scenario=ttft%3D0%3Bitl%3D0%3Btokens%3D2"
    parts = sse(exchange(mock_server.port, build_request(path, {"stream": True})))
    assert len(parts) == 3


def test_keep_alive_and_pipelining(mock_server: MockHandle) -> None:
    one = build_request("/v1/completions", {"stream": True}, scenario="ttft=0;itl=0;tokens=2")
    two = build_request("/api/generate", {}, scenario="ttft=0;itl=0;tokens=3")
    with socket.create_connection(("127.0.0.1", mock_server.port), timeout=5) as sock:
        sock.sendall(one + two)
        data = b""
        while data.count(b"0\r\n\r\n") < 2:
            chunk = sock.recv(65536)
            assert chunk, f"connection closed early: {data!r}"
            data += chunk
    first, _, second = data.partition(b"0\r\n\r\nHTTP/1.1 200 OK")
    assert b"data: [DONE]" in first
    assert b'"done":true' in second


def test_chunked_request_body_with_expect_continue(mock_server: MockHandle) -> None:
    body = json.dumps({"stream": True}).encode()
    head = (
        b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        b"Expect: 100-continue\r\nX-Tokenpath-Scenario: ttft=0;itl=0;tokens=1\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", mock_server.port), timeout=5) as sock:
        sock.sendall(head)
        assert sock.recv(1024).startswith(b"HTTP/1.1 100 Continue\r\n")
        sock.sendall(b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))
        data = b""
        while not data.endswith(b"0\r\n\r\n"):
            chunk = sock.recv(65536)
            assert chunk
            data += chunk
    assert data.startswith(b"HTTP/1.1 200 OK")
    assert b"data: [DONE]" in data


def test_limits(mock_server: MockHandle) -> None:
    huge = b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n"
    assert exchange(mock_server.port, huge).status == 413
    long_header = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 70000 + b"\r\n\r\n"
    assert exchange(mock_server.port, long_header).status == 431
    assert exchange(mock_server.port, b"NONSENSE\r\n\r\n").status == 400


def test_client_disconnect_mid_stream_is_quiet(mock_server: MockHandle) -> None:
    request = build_request("/v1/chat/completions", {"stream": True}, scenario="itl=5ms")
    for _ in range(3):
        with socket.create_connection(("127.0.0.1", mock_server.port), timeout=5) as sock:
            sock.sendall(request)
            assert sock.recv(65536).startswith(b"HTTP/1.1 200")
    assert httpx.get(mock_server.url + "/healthz").text == "ok"


# ---------------------------------------------------------------------------- framing


def test_http10_request_gets_a_close_delimited_body(mock_server: MockHandle) -> None:
    response = stream(mock_server, scenario=FAST + ";tokens=3", version="1.0")
    assert response.headers["connection"] == "close"
    assert "transfer-encoding" not in response.headers
    assert "content-length" not in response.headers
    assert response.end == "eof"
    assert sse(response)[-1] == b"data: [DONE]"


def test_framing_length_gives_the_exact_content_length(mock_server: MockHandle) -> None:
    scenario = "ttft=0;itl=5ms;tokens=6;pad=500;heartbeat=20ms;pause=2@70ms;framing=length"
    response = stream(mock_server, scenario=scenario)
    assert "transfer-encoding" not in response.headers
    assert int(response.headers["content-length"]) == len(response.body)
    parts = sse(response)
    assert any(part.startswith(b": tokenpath send_ns=") for part in parts)
    assert parts[-1] == b"data: [DONE]"
    content = [p for p in parts if meaning(Dialect.OPENAI_CHAT, p) is Kind.CONTENT]
    assert len(content) == 6
    assert all(len(part) + 2 >= 500 for part in content)  # + the blank line


def test_framing_close_on_http11(mock_server: MockHandle) -> None:
    response = stream(mock_server, scenario=FAST + ";tokens=2;framing=close")
    assert response.headers["connection"] == "close"
    assert response.end == "eof"
    assert sse(response)[-1] == b"data: [DONE]"


def test_eol_accel_and_content_type(mock_server: MockHandle) -> None:
    scenario = FAST + ";tokens=2;eol=crlf;accel=no;ctype=text/plain%3B charset=utf-8"
    response = stream(mock_server, scenario=scenario)
    assert response.headers["x-accel-buffering"] == "no"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    body = response.decoded
    assert body.endswith(b"data: [DONE]\r\n\r\n")
    assert b"\n\n" not in body.replace(b"\r\n\r\n", b"")


# ---------------------------------------------------------------------------- faults


def test_fin_closes_without_terminator(mock_server: MockHandle) -> None:
    response = stream(mock_server, scenario="ttft=0;itl=10ms;tokens=5;fin=2")
    assert response.headers["connection"] == "close"
    assert response.end == "eof"
    body, complete = dechunk(response.body)
    assert not complete
    assert [meaning(Dialect.OPENAI_CHAT, p) for p in events(body)] == [Kind.EMPTY] + [
        Kind.CONTENT
    ] * 2


def test_rst_resets_the_connection(mock_server: MockHandle) -> None:
    response = stream(mock_server, scenario="ttft=0;itl=20ms;tokens=5;rst=2")
    assert response.end == "reset"
    kinds = [meaning(Dialect.OPENAI_CHAT, p) for p in sse(response)]
    assert kinds == [Kind.EMPTY, Kind.CONTENT, Kind.CONTENT]


def test_truncate_sends_a_partial_chunk(mock_server: MockHandle) -> None:
    response = stream(mock_server, "/v1/completions", "ttft=0;itl=10ms;tokens=5;truncate=1")
    assert response.end == "eof"
    rest = response.body
    sizes: list[tuple[int, int]] = []  # (promised, sent) per chunk
    while rest:
        line, _, rest = rest.partition(b"\r\n")
        promised = int(line, 16)
        sizes.append((promised, len(rest[:promised])))
        rest = rest[promised + 2 :]
    assert len(sizes) == 2
    assert sizes[0][0] == sizes[0][1]  # event 1 whole
    promised, sent = sizes[1]
    assert sent == promised // 2  # event 2: header for all of it, half of its bytes


def test_truncate_without_chunked_framing_is_a_fin(mock_server: MockHandle) -> None:
    response = stream(mock_server, "/v1/completions", FAST + ";tokens=5;truncate=1", version="1.0")
    assert response.end == "eof"
    assert len(events(response.body)) == 1


def test_status_fault(mock_server: MockHandle) -> None:
    response = stream(mock_server, scenario="status=500")
    assert response.status == 500
    assert response.headers["content-type"] == "application/json"
    assert json.loads(response.body)["error"]["type"] == "server_error"


def test_error_after_n_tokens(mock_server: MockHandle) -> None:
    response = stream(mock_server, scenario=FAST + ";tokens=5;error_after=2")
    assert response.end == "complete"
    kinds = [meaning(Dialect.OPENAI_CHAT, p) for p in sse(response)]
    assert kinds == [Kind.EMPTY, Kind.CONTENT, Kind.CONTENT, Kind.ERROR]


def test_bad_json_event(mock_server: MockHandle) -> None:
    kinds = [
        meaning(Dialect.OPENAI_CHAT, p)
        for p in sse(stream(mock_server, "/v1/completions", FAST + ";tokens=3;bad_json=2"))
    ]
    assert kinds == [Kind.CONTENT, Kind.INVALID, Kind.CONTENT, Kind.DONE]


def test_bad_utf8_event(mock_server: MockHandle) -> None:
    parts = sse(stream(mock_server, "/v1/completions", FAST + ";tokens=3;bad_utf8=1"))
    with pytest.raises(UnicodeDecodeError):
        parts[0].decode()
    parts[1].decode()


# ---------------------------------------------------------------------------- timing


def test_one_event_per_read_and_stamps_match_arrival(mock_server: MockHandle) -> None:
    response = stream(mock_server, "/generate_stream", "ttft=30ms;itl=30ms;tokens=6;framing=close")
    assert len(response.reads) == 6
    previous = 0
    for arrived_ns, data in response.reads:
        assert len(events(data)) == 1, data
        sent_ns = stamp(data)
        assert sent_ns is not None
        assert sent_ns > previous
        assert 0 <= arrived_ns - sent_ns < 50 * MS
        previous = sent_ns


def test_one_event_per_read_chunked(mock_server: MockHandle) -> None:
    response = stream(mock_server, "/api/chat", "ttft=30ms;itl=30ms;tokens=4")
    # 4 tokens; the final done line is due with the last token, so it may share its read
    assert len(response.reads) in (4, 5)
    for _, data in response.reads[:3]:
        assert data.count(b"\r\n") == 2  # exactly one chunk: size line and chunk end
        assert len(events(dechunk(data + b"0\r\n\r\n")[0], b"\n")) == 1


def test_header_delay(mock_server: MockHandle) -> None:
    response = stream(mock_server, scenario="headers=300ms;ttft=0;itl=0;tokens=1")
    waited = (response.head_ns - response.sent_ns) / 1e9
    assert 0.29 <= waited < 0.45


def test_ttft_and_pause(mock_server: MockHandle) -> None:
    scenario = "ttft=100ms;itl=10ms;tokens=4;pause=2@300ms;framing=close"
    response = stream(mock_server, "/generate_stream", scenario)
    times = [arrived for arrived, _ in response.reads]
    assert len(times) == 4
    assert 0.09 <= (times[0] - response.head_ns) / 1e9 < 0.16
    assert 0.30 <= (times[2] - times[1]) / 1e9 < 0.40
    assert (times[3] - times[2]) / 1e9 < 0.06


def test_heartbeats_during_ttft_and_pause(mock_server: MockHandle) -> None:
    scenario = "ttft=250ms;itl=10ms;tokens=3;pause=1@350ms;heartbeat=100ms"
    response = stream(mock_server, scenario=scenario)
    parts = sse(response)
    shape = ["hb" if p.startswith(b":") else "role" if b'"role"' in p else "ev" for p in parts]
    assert shape == ["hb", "hb", "role", "ev", "hb", "hb", "hb", "ev", "ev", "ev"]
    heartbeats = [stamp(p) or 0 for p in parts if p.startswith(b":")]
    assert all(heartbeats)
    in_ttft, in_pause = heartbeats[:2], heartbeats[2:]
    gaps = [(b - a) / 1e9 for a, b in [*itertools.pairwise(in_ttft), *itertools.pairwise(in_pause)]]
    assert all(0.08 <= gap <= 0.14 for gap in gaps)


# ---------------------------------------------------------------------------- lifecycle


def test_run_in_thread_with_defaults_and_shutdown() -> None:
    with run_in_thread(defaults=Scenario(tokens=2, ttft=0, itl=0)) as mock:
        assert mock.url == f"http://127.0.0.1:{mock.port}"
        parts = sse(stream(mock, scenario=""))
        assert len(parts) == 4  # role, 2 tokens, [DONE]
        port = mock.port
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
