"""`dos serve` driven by the official OpenAI SDK: models, completions streamed and not on the embedded model,
skills as models, token policy (revoked, sovereignty, skills, budget), tools passed through, provider failure,
32 concurrent streams with nothing lost, and bad requests that leave the server up. (What `dos serve` refuses
before it listens: tests/cli/test_serve.py.)"""

from __future__ import annotations

import json
import socket
import threading
import time

import httpx
import openai
import pytest

from tests.support.fake_provider import FakeProvider
from tests.support.serve_fixture import Served

NO_DISCOVERY = "discover: {localhost: false, env: false}\n"
pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    home = tmp_path_factory.mktemp("serve-home")
    (home / "config").mkdir()
    (home / "config" / "models.yaml").write_text(NO_DISCOVERY)
    server = Served(home, tmp_path_factory.mktemp("serve-cwd")).start()
    yield server
    assert server.stop() in (0, 130), "".join(server.log)
    assert "Traceback" not in "".join(server.log)


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    """A server whose catalog also holds two priced 'cloud' models served by a scripted provider on 127.0.0.1."""
    with FakeProvider({"priced": ["ok"], "tooly": ["tool"], "broken": ["500"]}, reply="fake answer") as provider:
        home = tmp_path_factory.mktemp("cloud-home")
        (home / "config").mkdir()
        entries = "".join(f"""
  - model_name: {name}
    litellm_params: {{model: openai/{name}, api_base: "{provider.url}", api_key: sk-test-not-a-key}}
    sovereignty: us
    capabilities: [chat, tools]
    input_price: 100
    output_price: 100
""" for name in ("priced", "tooly", "broken"))
        (home / "config" / "models.yaml").write_text(
            "router: {num_retries: 0, timeout: 5, cooldown_time: 0}\n" + NO_DISCOVERY + "model_list:" + entries)
        server = Served(home, tmp_path_factory.mktemp("cloud-cwd")).start()
        server.provider = provider  # type: ignore[attr-defined]
        yield server
        server.stop()


def test_models_lists_the_catalog_and_every_skill_as_a_model(served):
    client = served.client(served.token("lister"))
    ids = [m.id for m in client.models.list()]
    assert "local/smollm2" in ids and "skill:summarize" in ids and "skill:explain" in ids
    assert client.models.retrieve("skill:summarize").owned_by == "dos-skill"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("skill:no-such-skill")


def test_completions_streamed_and_not_are_answered_and_on_record_under_the_token_name(served):
    secret = served.token("editor")
    client = served.client(secret)
    whole = client.chat.completions.create(model="local/smollm2", max_tokens=6, temperature=0,
                                           messages=[{"role": "user", "content": "Name a colour."}])
    assert whole.choices[0].message.content and 0 < whole.usage.completion_tokens <= 6
    assert whole.id.startswith("chatcmpl-") and whole.model == "local/smollm2"

    pieces, usage = [], None
    for chunk in client.chat.completions.create(model="skill:summarize", max_tokens=8, temperature=0, stream=True,
                                                stream_options={"include_usage": True},
                                                messages=[{"role": "user", "content": "Cats sleep. Dogs bark."}]):
        pieces += [c.delta.content or "" for c in chunk.choices]
        usage = chunk.usage or usage
    streamed = "".join(pieces)
    assert streamed and usage is not None and usage.completion_tokens <= 8

    turns = json.loads(served.dos("memory", "log", "--json").out)
    mine = {t["turn_id"]: t for t in turns}
    assert mine[whole.id.removeprefix("chatcmpl-")]["response"] == whole.choices[0].message.content
    assert [r["text"] for r in served.responses("editor")] == [whole.choices[0].message.content, streamed]
    assert [r["skill"] for r in served.responses("editor")] == ["direct", "summarize"]
    assert len(served.debits("editor")) == 2  # free, but metered: one debit per call, naming the token
    stored = b"".join(p.read_bytes() for p in (served.home / "data").glob("memory.db*"))
    assert secret.encode() not in stored and secret not in "".join(served.log)


def test_unknown_revoked_and_missing_tokens_get_401(served):
    secret = served.token("leaver")
    assert served.client(secret).models.list().data
    assert served.dos("tokens", "revoke", "leaver").code == 0
    for token, why in ((secret, "token 'leaver' was revoked"), ("dos_not-a-token", "unknown token")):
        with pytest.raises(openai.AuthenticationError) as caught:
            served.client(token).chat.completions.create(model="local/smollm2", messages=[
                {"role": "user", "content": "hi"}])
        assert caught.value.body["code"] == "invalid_api_key" and why in caught.value.body["message"]
    bare = httpx.get(f"{served.url}/models")
    assert bare.status_code == 401 and "Bearer" in bare.json()["error"]["message"]
    listed = json.loads(served.dos("tokens", "list", "--json").out)
    assert next(t for t in listed if t["name"] == "leaver")["revoked"]
    assert served.dos("tokens", "revoke", "nobody").code == 16


def test_a_token_limited_to_skills_sees_and_runs_only_those(served):
    client = served.client(served.token("summarizer", "--skills", "summarize"))
    assert [m.id for m in client.models.list()] == ["skill:summarize"]
    for model in ("local/smollm2", "skill:explain"):
        with pytest.raises(openai.PermissionDeniedError):
            client.chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}], max_tokens=2)
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="no/such-model", messages=[{"role": "user", "content": "hi"}])
    assert served.dos("tokens", "create", "x", "--skills", "nope").code == 2


def test_32_concurrent_streams_lose_no_ledger_entry_and_no_memory_event(served):
    client = served.client(served.token("crowd"))
    answers: dict[int, str] = {}
    failures: list[BaseException] = []

    def one(i: int) -> None:
        try:
            stream = client.chat.completions.create(model="skill:explain", max_tokens=4, temperature=0, stream=True,
                                                    messages=[{"role": "user", "content": f"What is {i}+1?"}])
            answers[i] = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert not failures and len(answers) == 32
    responses = served.responses("crowd")
    assert len(responses) == 32 and all(json.loads(r["data"])["complete"] for r in responses)
    assert sorted(r["text"] for r in responses) == sorted(answers.values())
    assert len(served.debits("crowd")) == 32
    assert len({r["turn_id"] for r in served.debits("crowd")}) == 32
    assert served.dos("memory", "verify").code == 0


def test_a_client_that_goes_away_mid_stream_leaves_its_partial_answer_on_record(served):
    client = served.client(served.token("quitter"))
    stream = client.chat.completions.create(model="local/smollm2", max_tokens=200, temperature=0, stream=True,
                                            messages=[{"role": "user", "content": "Tell a long story."}])
    got = [c.choices[0].delta.content for c in (next(stream), next(stream))]
    stream.close()
    deadline = time.monotonic() + 60
    while not served.responses("quitter") and time.monotonic() < deadline:
        time.sleep(0.2)
    [response] = served.responses("quitter")
    data = json.loads(response["data"])
    assert data["complete"] is False and data["error"] == "interrupted"
    assert response["text"].startswith("".join(got)) and data["usage"]["completion_tokens"] < 200


def test_bad_requests_get_a_clear_4xx_and_the_server_stays_up(served):
    secret = served.token("fuzzer")
    auth = {"Authorization": f"Bearer {secret}"}
    url = f"{served.url}/chat/completions"
    good = {"model": "local/smollm2", "max_tokens": 2, "messages": [{"role": "user", "content": "hi"}]}

    def post(content: bytes, kind: str = "application/json", **extra: str) -> httpx.Response:
        return httpx.post(url, content=content, headers=auth | {"Content-Type": kind} | extra, timeout=60)

    cases = [
        (post(b'{"model": "local/smollm2", "messages": ['), 400, "invalid_json"),
        (post(json.dumps(good).encode(), "text/plain"), 415, "unsupported_media_type"),
        (post(b" " * (5 * 1024 * 1024)), 413, "request_too_large"),
        (post(json.dumps({"model": "local/smollm2"}).encode()), 400, None),
        (post(json.dumps(good | {"n": 3}).encode()), 400, None),
        (post(json.dumps(good | {"max_tokens": -1}).encode()), 400, None),
        (post(json.dumps(good | {"messages": [{"role": "wizard", "content": "x"}]}).encode()), 400, None),
        (post(json.dumps(good | {"model": "nope"}).encode()), 404, "model_not_found"),
        (httpx.get(f"{served.url}/no/such/route", headers=auth), 404, "not_found"),
    ]
    for response, status, code in cases:
        assert response.status_code == status, response.text
        error = response.json()["error"]
        assert error["message"] and "\n" not in error["message"] and "Traceback" not in error["message"]
        assert code is None or error["code"] == code
    assert cases[3][0].json()["error"]["param"] == "messages"
    assert httpx.get(served.url.removesuffix("/v1") + "/healthz").json()["status"] == "ok"
    assert post(json.dumps(good).encode()).status_code == 200


def test_the_token_is_checked_before_the_body_is_read(served):
    url = f"{served.url}/chat/completions"
    good = json.dumps({"model": "local/smollm2", "messages": [{"role": "user", "content": "hi"}]}).encode()
    huge = b" " * (5 * 1024 * 1024)
    for auth in ({}, {"Authorization": "Bearer dos_not-a-token"}, {"Authorization": "Basic abc"}):
        for body, kind in ((huge, "application/json"), (b'{"model": [[[', "application/json"),
                           (b"[" * 100_000, "application/json"), (good, "text/plain"), (b"\xff\xfe", "application/json")):
            response = httpx.post(url, content=body, headers=auth | {"Content-Type": kind}, timeout=60)
            assert response.status_code == 401, (auth, body[:20], response.text)
            assert response.json()["error"]["code"] == "invalid_api_key"
    # 50 MB announced, two bytes sent: answered at once from the headers alone (not 413, not a wait for the rest)
    host, port = served.url.split("//", 1)[1].split("/", 1)[0].rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=30) as raw:
        raw.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    b"Content-Length: 52428800\r\n\r\n{}")
        assert raw.recv(4096).split(b"\r\n", 1)[0] == b"HTTP/1.1 401 Unauthorized"
    assert httpx.get(served.url.removesuffix("/v1") + "/healthz").json()["status"] == "ok"


def test_deeply_nested_json_gets_400_and_the_server_stays_up(served):
    auth = {"Authorization": f"Bearer {served.token('nester')}", "Content-Type": "application/json"}
    url = f"{served.url}/chat/completions"
    message = {"role": "user", "content": "hi"}
    deep: object = "x"
    for _ in range(200):
        deep = {"a": deep}
    bodies = [
        b"[" * 100_000,  # past Python's own recursion limit: was a 500
        b'{"model": "local/smollm2", "messages": ' + b"[" * 5_000 + b"]" * 5_000 + b"}",
        json.dumps({"model": "local/smollm2", "max_tokens": 2, "messages": [message], "metadata": deep}).encode(),
        json.dumps({"model": "local/smollm2", "max_tokens": 2, "messages": [message | {"content": [deep]}]}).encode(),
    ]
    for body in bodies:
        response = httpx.post(url, content=body, headers=auth, timeout=60)
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert error["code"] == "json_too_deep" and "nested" in error["message"] and "\n" not in error["message"]
    shallow = {"model": "local/smollm2", "max_tokens": 2, "messages": [message], "metadata": {"a": {"b": {"c": 1}}}}
    assert httpx.post(url, content=json.dumps(shallow).encode(), headers=auth, timeout=120).status_code == 200
    assert httpx.get(served.url.removesuffix("/v1") + "/healthz").json()["status"] == "ok"
    assert not [line for line in served.log if "internal error" in line]


def test_an_exhausted_token_budget_gets_402_and_nothing_more_is_sent(cloud):
    # A call is held at its safe upper bound (0.003 here: prompt bytes, framing, max_tokens) and debited at the
    # provider's count (0.0007): the first fits in 0.0035, the second no longer does.
    client = cloud.client(cloud.token("capped", "--budget", "0.0035"))
    ask = {"model": "priced", "max_tokens": 4, "messages": [{"role": "user", "content": "hi"}]}
    assert client.chat.completions.create(**ask).choices[0].message.content.strip() == "fake answer"
    sent = list(cloud.provider.requests)
    with pytest.raises(openai.APIStatusError) as caught:
        client.chat.completions.create(**ask)
    assert caught.value.status_code == 402 and caught.value.body["code"] == "budget_exceeded"
    assert "token 'capped'" in caught.value.body["message"]
    assert cloud.provider.requests == sent  # refused before the call
    [debit] = cloud.debits("capped")
    assert debit["amount"] == -700  # 5 + 2 tokens at 100 $/M: 700 micro-credits
    listed = next(t for t in json.loads(cloud.dos("tokens", "list", "--json").out) if t["name"] == "capped")
    assert listed["spent"] == "0.0007" and listed["budget"]["left"] == "0.0028"


def test_a_local_only_token_never_reaches_a_cloud_model(cloud):
    client = cloud.client(cloud.token("homebody", "--sovereignty", "local"))
    listed = [m.id for m in client.models.list()]
    assert "local/smollm2" in listed and "skill:explain" in listed
    assert not {"priced", "tooly", "broken"} & set(listed)  # it may not use them, so it does not see them
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("priced")
    everyone = [m.id for m in cloud.client(cloud.token("roamer")).models.list()]
    assert {"priced", "tooly", "broken", "local/smollm2"} <= set(everyone)
    eu = [m.id for m in cloud.client(cloud.token("european", "--sovereignty", "eu")).models.list()]
    assert eu == []  # no eu model in this catalog, so no skill can run under it either
    before = len(cloud.provider.requests)
    with pytest.raises(openai.PermissionDeniedError) as caught:
        client.chat.completions.create(model="priced", messages=[{"role": "user", "content": "hi"}], max_tokens=2)
    assert caught.value.body["code"] == "no_route" and "sovereignty" in caught.value.body["message"]
    answer = client.chat.completions.create(model="skill:explain", max_tokens=3, temperature=0,
                                            messages=[{"role": "user", "content": "hi"}])
    assert answer.model == "local/smollm2"  # the skill's route, narrowed to local: the embedded model
    assert len(cloud.provider.requests) == before


def test_tools_pass_through_to_the_model_and_its_calls_back_to_the_client(cloud):
    client = cloud.client(cloud.token("agent"))
    tools = [{"type": "function", "function": {"name": "weather", "description": "Weather in a city",
                                               "parameters": {"type": "object",
                                                              "properties": {"city": {"type": "string"}}}}}]
    ask = {"model": "tooly", "tools": tools, "messages": [{"role": "user", "content": "Weather in Paris?"}]}
    whole = client.chat.completions.create(**ask)
    [call] = whole.choices[0].message.tool_calls
    assert (call.function.name, json.loads(call.function.arguments)) == ("weather", {"city": "Paris"})
    assert whole.choices[0].finish_reason == "tool_calls"
    assert cloud.provider.bodies[-1]["tools"][0]["function"]["name"] == "weather"
    streamed = [d for chunk in client.chat.completions.create(**ask, stream=True) for c in chunk.choices
                for d in (c.delta.tool_calls or [])]
    assert [d.function.name for d in streamed] == ["weather"]
    [response, _] = cloud.responses("agent")
    assert json.loads(response["data"])["tool_calls"][0]["name"] == "weather"


def test_all_providers_failing_is_a_502_the_sdk_does_not_retry(cloud):
    client = openai.OpenAI(base_url=cloud.url, api_key=cloud.token("unlucky"), timeout=60)  # SDK retries on
    before = cloud.provider.requests.count("broken")
    with pytest.raises(openai.APIStatusError) as caught:
        client.chat.completions.create(model="broken", messages=[{"role": "user", "content": "hi"}], max_tokens=2)
    assert caught.value.status_code == 502 and caught.value.body["code"] == "upstream_failed"
    assert cloud.provider.requests.count("broken") == before + 1  # x-should-retry: false
    [response] = cloud.responses("unlucky")
    assert json.loads(response["data"])["complete"] is False
