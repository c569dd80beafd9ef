"""SIPp callers and phones for the real-PBX tests, written for the project's prompts and timings.

Each scenario is generated from a short script, so a test reads as what the caller does:

    Caller(keys=[Key("1", at_ms=1500), Key("2", at_ms=800, method="info")], hangup_after_ms=4000)

- A caller dials 12348 from one of the ports the carrier is identified by, offers PCMU/PCMA and
  telephone-event 101, and presses keys by RFC 2833 (RTP event packets written here, each key with
  its own RTP timestamp: sip-tester's `dtmf_2833_*.pcap` all share one, so Asterisk takes a repeated
  key for the same event) or SIP INFO (`application/dtmf-relay`), each after a pause counted from
  the previous step. It then hangs up after a while, or waits for the PBX to hang up.
- A phone (a lawyer's SIP phone, or the citizen/overflow side of the carrier) answers INVITEs after
  ringing for a while (or never: the PBX cancels), talks, and hangs up or waits for the BYE.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

EVENTS = {**{str(d): d for d in range(10)}, "*": 10, "#": 11}
SDP = (
    "v=0\r\no=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]\r\ns=-\r\n"
    "c=IN IP[media_ip_type] [media_ip]\r\nt=0 0\r\nm=audio [media_port] RTP/AVP 8 0 101\r\n"
    "a=rtpmap:8 PCMA/8000\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
    "a=fmtp:101 0-16\r\na=sendrecv\r\n"
)


def sipp_binary() -> str | None:
    return shutil.which("sipp")


#: When a caller presses the first key: during the welcome (about 10 s), late enough that the IVR is
#: playing it even on a busy machine. A key sent before the first AGI command is lost, as on a real
#: line; at 2 s one was, once in CI (the call's AGI start was held up).
WELCOME_KEY_MS = 4000


@dataclass(frozen=True)
class Key:
    digit: str
    #: pause before the key, from the previous step (answer, or the previous key).
    at_ms: int = 500
    method: Literal["rfc2833", "info"] = "rfc2833"


#: Mandarin during the welcome, then 0 in the main menu: the general queue (zonghe).
TO_OPERATOR = (Key("1", at_ms=WELCOME_KEY_MS), Key("0", at_ms=1500))


@dataclass(frozen=True)
class Speech:
    """Seven seconds of speech (sip-tester's g711a.pcap, PCMA) from `at_ms` after the previous step;
    the next step follows at once (the audio plays on meanwhile)."""

    at_ms: int = 500


SPEECH_PCAP = Path("/usr/share/sip-tester/g711a.pcap")


@dataclass(frozen=True)
class Caller:
    keys: Sequence[Key | Speech] = ()
    #: hang up this long after the last key; None: wait for the PBX to hang up (up to wait_bye_ms).
    hangup_after_ms: int | None = None
    wait_bye_ms: int = 60_000
    number: str = "13808081234"
    service: str = "12348"


@dataclass(frozen=True)
class Phone:
    #: ring this long before answering; None: never answer (the PBX cancels).
    answer_after_ms: int | None = 1000
    #: talk this long, then hang up; None: wait for the other side's BYE.
    hangup_after_ms: int | None = None
    #: calls to take before the phone stops.
    calls: int = 1


def dtmf_pcap(path: Path, digit: str, index: int) -> Path:
    """An RFC 2833 key press as SIPp's play_pcap_audio replays it: three updates 20 ms apart, then the
    end packet three times, payload type 101; `index` sets its own sequence numbers and timestamp."""
    event = EVENTS[digit]
    timestamp = 160_000 + index * 16_000
    packets = []
    for n in range(6):
        end = n >= 3
        duration = 160 * min(n + 1, 4)
        rtp = struct.pack("!BBHII", 0x80, (0x80 if n == 0 else 0) | 101, 1000 + index * 10 + n, timestamp, 0x12348)
        payload = rtp + struct.pack("!BBH", event, (0x80 if end else 0) | 10, duration)
        udp = struct.pack("!HHHH", 5000, 5000, 8 + len(payload), 0) + payload
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), n, 0, 64, 17, 0, bytes(4), bytes(4)) + udp
        frame = bytes(12) + b"\x08\x00" + ip
        packets.append(struct.pack("<IIII", 0, n * 20_000, len(frame), len(frame)) + frame)
    path.write_bytes(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1) + b"".join(packets))
    return path


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _message(body: str) -> str:
    return f"<![CDATA[\n{body}\n]]>"


def caller_scenario(caller: Caller, workdir: Path, label: str) -> str:
    invite = (
        "INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0\n"
        "Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]\n"
        f"From: <sip:{caller.number}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]\n"
        "To: <sip:[service]@[remote_ip]:[remote_port]>\nCall-ID: [call_id]\nCSeq: 1 INVITE\n"
        f"Contact: <sip:{caller.number}@[local_ip]:[local_port]>\nMax-Forwards: 70\n"
        "Content-Type: application/sdp\nContent-Length: [len]\n\n" + SDP
    )
    ack = (
        "ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0\n"
        "Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]\n"
        f"From: <sip:{caller.number}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]\n"
        "To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]\nCall-ID: [call_id]\nCSeq: 1 ACK\n"
        f"Contact: <sip:{caller.number}@[local_ip]:[local_port]>\nMax-Forwards: 70\nContent-Length: 0\n"
    )
    steps = [
        '<send retrans="500">' + _message(invite) + "</send>",
        '<recv response="100" optional="true"/>',
        '<recv response="180" optional="true"/>',
        '<recv response="183" optional="true"/>',
        '<recv response="200" rtd="true"/>',
        "<send>" + _message(ack) + "</send>",
    ]
    cseq = 2
    for index, key in enumerate(caller.keys):
        steps.append(f'<pause milliseconds="{key.at_ms}"/>')
        if isinstance(key, Speech):
            steps.append(f'<nop><action><exec play_pcap_audio="{SPEECH_PCAP}"/></action></nop>')
        elif key.method == "rfc2833":
            pcap = dtmf_pcap(workdir / f"{label}-key{index}.pcap", key.digit, index)
            steps.append(f'<nop><action><exec play_pcap_audio="{pcap}"/></action></nop>')
            steps.append('<pause milliseconds="300"/>')
        else:
            info = (
                "INFO sip:[service]@[remote_ip]:[remote_port] SIP/2.0\n"
                "Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]\n"
                f"From: <sip:{caller.number}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]\n"
                f"To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]\nCall-ID: [call_id]\n"
                f"CSeq: {cseq} INFO\nContact: <sip:{caller.number}@[local_ip]:[local_port]>\nMax-Forwards: 70\n"
                f"Content-Type: application/dtmf-relay\nContent-Length: [len]\n\nSignal={_xml(key.digit)}\r\n"
                "Duration=160\r\n"
            )
            steps.append("<send>" + _message(info) + "</send>")
            steps.append('<recv response="200"/>')
            cseq += 1
    if caller.hangup_after_ms is not None:
        bye = (
            "BYE sip:[service]@[remote_ip]:[remote_port] SIP/2.0\n"
            "Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]\n"
            f"From: <sip:{caller.number}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]\n"
            f"To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]\nCall-ID: [call_id]\n"
            f"CSeq: {cseq} BYE\nContact: <sip:{caller.number}@[local_ip]:[local_port]>\nMax-Forwards: 70\n"
            "Content-Length: 0\n"
        )
        steps.append(f'<pause milliseconds="{caller.hangup_after_ms}"/>')
        steps.append("<send>" + _message(bye) + "</send>")
        steps.append('<recv response="200" crlf="true"/>')
    else:
        steps.append(f'<recv request="BYE" timeout="{caller.wait_bye_ms}"/>')
        steps.append("<send>" + _message(_ok_to_last()) + "</send>")
    return _scenario("caller", steps)


def _ok_to_last(code: str = "200 OK", sdp: bool = False) -> str:
    head = (
        f"SIP/2.0 {code}\n[last_Via:]\n[last_From:]\n[last_To:];tag=[pid]SIPpTag01[call_number]\n[last_Call-ID:]\n"
        "[last_CSeq:]\nContact: <sip:[local_ip]:[local_port];transport=[transport]>\n"
    )
    if sdp:
        return head + "Content-Type: application/sdp\nContent-Length: [len]\n\n" + SDP
    return head + "Content-Length: 0\n"


def phone_scenario(phone: Phone) -> str:
    ring_ms = phone.answer_after_ms if phone.answer_after_ms is not None else 3_600_000
    steps = [
        # The phone's own BYE needs the INVITE's From and To (SIPp refuses variables it never uses).
        '<recv request="INVITE" rrs="true"><action>'
        '<ereg regexp=".*" search_in="hdr" header="From:" assign_to="invite_from"/>'
        '<ereg regexp=".*" search_in="hdr" header="To:" assign_to="invite_to"/>'
        "</action></recv>"
        if phone.hangup_after_ms is not None
        else '<recv request="INVITE"/>',
        "<send>" + _message(_ok_to_last("180 Ringing")) + "</send>",
        f'<recv request="CANCEL" timeout="{ring_ms}" ontimeout="answer"/>',
        "<send>" + _message(_ok_to_last()) + "</send>",
        "<send>" + _message(_ok_to_last("487 Request Terminated")) + "</send>",
        '<recv request="ACK"/>',
        '<nop next="end"/>',
        '<label id="answer"/>',
        '<send retrans="500">' + _message(_ok_to_last(sdp=True)) + "</send>",
        '<recv request="ACK" optional="true" next="talk"/>',
        '<recv request="BYE" next="bye"/>',
        '<label id="talk"/>',
    ]
    if phone.hangup_after_ms is None:
        steps.append('<recv request="BYE" timeout="3600000" next="bye"/>')
    else:
        bye = (
            "BYE [next_url] SIP/2.0\nVia: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]\n"
            "From: [$invite_to];tag=[pid]SIPpTag01[call_number]\nTo: [$invite_from]\n[last_Call-ID:]\nCSeq: 2 BYE\n"
            "Max-Forwards: 70\n"
            "Content-Length: 0\n"
        )
        steps += [
            f'<recv request="BYE" timeout="{phone.hangup_after_ms}" ontimeout="hangup" next="bye"/>',
            '<label id="hangup"/>',
            "<send>" + _message(bye) + "</send>",
            '<recv response="200"/>',
            '<nop next="end"/>',
        ]
    steps += ['<label id="bye"/>', "<send>" + _message(_ok_to_last()) + "</send>", '<label id="end"/>']
    return _scenario("phone", steps)


def _scenario(name: str, steps: list[str]) -> str:
    body = "\n".join(f"  {step}" for step in steps)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<scenario name="{name}">\n{body}\n</scenario>\n'


class SippRun:
    """One SIPp process; `wait()` returns its exit status (0: every call went as scripted)."""

    def __init__(self, command: list[str], workdir: Path, label: str) -> None:
        self.command = command
        self.workdir = workdir
        self.label = label
        self.output = workdir / f"{label}.out"
        with self.output.open("wb") as out:
            self.process = subprocess.Popen(
                command, cwd=workdir, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT
            )

    def wait(self, timeout: float = 120) -> int:
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            raise AssertionError(f"SIPp {self.label} still running after {timeout:.0f} s:\n{self.report()}") from None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)

    def report(self) -> str:
        """SIPp's error log and the SIP messages, for a failed assertion."""
        parts = []
        for path in sorted(self.workdir.glob(f"{self.label}_*errors.log")) + sorted(
            self.workdir.glob(f"{self.label}_*messages.log")
        ):
            text = path.read_text(errors="replace")
            parts.append(f"--- {path.name}\n{text[-6000:]}")
        return "\n".join(parts) or self.output.read_text(errors="replace")[-3000:]

    def check(self, timeout: float = 120) -> None:
        status = self.wait(timeout)
        assert status == 0, f"SIPp {self.label} exited {status}:\n{self.report()}"


class Sipp:
    """Starts SIPp callers and phones against one Asterisk, in a work folder."""

    def __init__(self, workdir: Path, asterisk_sip_port: int) -> None:
        binary = sipp_binary()
        assert binary is not None, "sipp not installed (Debian sip-tester)"
        self.binary = binary
        self.workdir = workdir
        self.target = f"127.0.0.1:{asterisk_sip_port}"
        self._serial = 0

    def _label(self, kind: str) -> str:
        self._serial += 1
        return f"{kind}{self._serial}"

    def _run(self, label: str, xml: str, extra: list[str], media_port: int) -> SippRun:
        scenario = self.workdir / f"{label}.xml"
        scenario.write_text(xml)
        command = [
            self.binary,
            "-sf",
            str(scenario),
            "-i",
            "127.0.0.1",
            "-mi",
            "127.0.0.1",
            "-mp",
            str(media_port),
            "-nostdin",
            "-trace_err",
            "-trace_msg",
            "-aa",
            *extra,
        ]
        return SippRun(command, self.workdir, label)

    def call(self, caller: Caller, port: int, media_port: int, calls: int = 1, rate: float = 1.0) -> SippRun:
        """Place `calls` calls from `port` (one the carrier is identified by)."""
        label = self._label("caller")
        extra = ["-p", str(port), "-s", caller.service, "-m", str(calls), "-r", str(rate), "-l", str(calls)]
        return self._run(label, caller_scenario(caller, self.workdir, label), [*extra, self.target], media_port)

    def phone(self, phone: Phone, port: int, media_port: int) -> SippRun:
        """A phone listening on `port` (a lawyer's PJSIP/20xx contact, or the carrier's)."""
        label = self._label("phone")
        extra = ["-p", str(port), "-m", str(phone.calls)]
        return self._run(label, phone_scenario(phone), extra, media_port)
