"""AMI framing on the real Asterisk 22 traces, on any split of the byte stream, and on garbage."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.ami.frames import AmiMessage, Banner, FrameDecoder, FrameError, parse_message
from tests.traces import AMI, needs_traces

TRACES = AMI
TRACE_FILES = sorted(TRACES.glob("*.ami")) if TRACES.is_dir() else []


def decode_all(chunks: list[bytes]) -> list[object]:
    decoder = FrameDecoder()
    frames: list[object] = []
    for chunk in chunks:
        frames.extend(decoder.feed(chunk))
    return frames


@needs_traces
@pytest.mark.parametrize("trace", TRACE_FILES, ids=lambda p: p.stem)
def test_recorded_trace_parses_exactly_as_indexed(trace: Path) -> None:
    data = trace.read_bytes()
    index = [json.loads(line) for line in trace.with_suffix(".jsonl").read_text().splitlines()]
    frames = decode_all([data])
    assert isinstance(frames[0], Banner) and frames[0].version == "11.0.0"
    messages = frames[1:]
    assert all(isinstance(m, AmiMessage) and m.skipped_lines == 0 for m in messages)
    assert len(messages) == len(index)
    offset = len(frames[0].raw)
    for message, entry in zip(messages, index, strict=True):
        assert isinstance(message, AmiMessage)
        assert (message.kind, message.name) == (entry["kind"], entry["name"])
        assert (offset, len(message.raw)) == (entry["offset"], entry["length"])
        assert message.get("ActionID") == entry.get("actionid")
        offset += len(message.raw)
    assert b"".join(f.raw for f in frames) == data  # type: ignore[attr-defined]


@needs_traces
@settings(max_examples=60, deadline=None)
@given(cuts=st.lists(st.integers(min_value=0, max_value=50_000), max_size=40))
def test_any_split_of_the_stream_gives_the_same_messages(cuts: list[int]) -> None:
    data = (TRACES / "02-call-answered.ami").read_bytes()
    points = sorted({c % (len(data) + 1) for c in cuts})
    chunks = [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]
    assert decode_all(chunks) == decode_all([data])


CHINESE = (
    "Event: Newchannel\r\nChannel: PJSIP/sipp-in-00000001\r\nCallerIDName: 张三（农民工）讨薪\r\nExten: 12348\r\n\r\n"
)


def test_utf8_character_split_across_reads_survives() -> None:
    data = CHINESE.encode()
    frames = decode_all([data[i : i + 1] for i in range(len(data))])  # one byte per read
    assert len(frames) == 1 and isinstance(frames[0], AmiMessage)
    assert frames[0].get("CallerIDName") == "张三（农民工）讨薪"


def test_stream_without_banner_parses_messages() -> None:
    frames = decode_all([CHINESE.encode()])
    assert [type(f) for f in frames] == [AmiMessage]


def test_repeated_keys_and_empty_values() -> None:
    message = parse_message(b"Response: Follows\r\nOutput: line one\r\nOutput: \r\nOutput: line three\r\n\r\n")
    assert isinstance(message, AmiMessage)
    assert message.get_all("Output") == ["line one", "", "line three"]
    assert message.get("output") == "line one" and message.as_dict()["Output"] == "line one"


def test_originate_response_is_an_event_despite_its_response_header() -> None:
    message = parse_message(b"Event: OriginateResponse\r\nResponse: Failure\r\nActionID: cb-1\r\n\r\n")
    assert isinstance(message, AmiMessage) and message.kind == "event" and message.get("Response") == "Failure"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"\r\n\r\n", "no Key: value"),
        (b"garbage without colon\r\n\r\n", "no Key: value"),
        (b"Channel: PJSIP/x\r\nEvent: Hangup\r\n\r\n", "first header is 'Channel'"),
    ],
)
def test_malformed_messages_become_frame_errors(raw: bytes, reason: str) -> None:
    frame = parse_message(raw)
    assert isinstance(frame, FrameError) and reason in frame.reason and frame.raw == raw


def test_stray_line_and_bad_bytes_do_not_lose_the_message() -> None:
    raw = b"Event: Hangup\r\n\x00\xff\xfe junk\r\nUniqueid: 1795449000.7\r\nCause: 16\r\n\r\n"
    frame = parse_message(raw)
    assert isinstance(frame, AmiMessage)
    assert frame.get("Uniqueid") == "1795449000.7" and frame.skipped_lines == 1


def test_oversized_message_is_skipped_and_the_stream_recovers() -> None:
    decoder = FrameDecoder(max_message_bytes=1024)
    frames = list(decoder.feed(b"Event: Huge\r\nData: " + b"x" * 5000))
    frames += list(decoder.feed(b"y" * 5000 + b"\r\n\r\n" + CHINESE.encode()))
    assert isinstance(frames[0], FrameError) and "over 1024 bytes" in frames[0].reason
    assert [f.name for f in frames if isinstance(f, AmiMessage)] == ["Newchannel"]
    assert decoder.pending == 0


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000))
def test_random_bytes_never_raise_and_a_following_message_still_arrives(noise: bytes) -> None:
    frames = decode_all([noise, b"\r\n\r\n", CHINESE.encode()])
    last = frames[-1]
    assert isinstance(last, AmiMessage) and last.get("CallerIDName") == "张三（农民工）讨薪"


header_key = st.from_regex(r"[A-Za-z][A-Za-z0-9_-]{0,20}", fullmatch=True)
header_value = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), max_size=60)


@settings(max_examples=200, deadline=None)
@given(name=header_key, headers=st.lists(st.tuples(header_key, header_value), max_size=12))
def test_encoded_headers_round_trip(name: str, headers: list[tuple[str, str]]) -> None:
    lines = [("Event", name), *headers]
    raw = "".join(f"{k}: {v}\r\n" for k, v in lines).encode() + b"\r\n"
    if b"\r\n\r\n" in raw[:-4]:
        return  # an empty-looking line inside would end the message early, as Asterisk's framing says
    frame = parse_message(raw)
    assert isinstance(frame, AmiMessage)
    assert list(frame.headers) == lines
