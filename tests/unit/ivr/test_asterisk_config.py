"""The sample Asterisk configuration agrees with the hotline's own: the queues, the AGI scripts the
IVR serves, the variables it sets, and no real secrets."""

from __future__ import annotations

import configparser
import re
from pathlib import Path

from settings.files import load_config

CONFIG = Path(__file__).resolve().parents[3] / "config"
ASTERISK = CONFIG / "asterisk"


def sections(name: str) -> list[str]:
    return re.findall(r"^\[([^\]]+)\]", (ASTERISK / name).read_text(encoding="utf-8"), re.MULTILINE)


def test_one_queue_per_service_hours_queue() -> None:
    queues = {q.name for q in load_config(CONFIG).service_hours.queues}
    defined = {s.split("(")[0] for s in sections("queues.conf")} - {"general", "hotline-queue"}
    # [general] is Asterisk's settings section: a queue of that name cannot be declared here.
    assert defined == queues and "general" not in queues  # [general] is the settings section


def test_dialplan_uses_the_ivr_scripts_and_variables() -> None:
    text = (ASTERISK / "extensions.conf").read_text(encoding="utf-8")
    assert "HOTLINE_AGI=agi://127.0.0.1:4573" in text
    assert "AGI(${HOTLINE_AGI}/ivr)" in text and "AGI(${HOTLINE_AGI}/survey,${CHANNEL(linkedid)})" in text
    for variable in ("HOTLINE_ROUTE", "HOTLINE_QUEUE", "HOTLINE_PRIORITY", "HOTLINE_OVERFLOW", "HOTLINE_PREFERRED"):
        assert "${" + variable + "}" in text
    assert "exten => 12348,1," in text and 'QUEUESTATUS}" = "CONTINUE"' in text


def test_webrtc_endpoints_and_websocket() -> None:
    pjsip = (ASTERISK / "pjsip.conf").read_text(encoding="utf-8")
    assert "protocol = wss" in pjsip and "webrtc = yes" in pjsip
    assert {"1001", "1002"} <= set(sections("pjsip.conf"))
    http = configparser.ConfigParser()
    http.read(ASTERISK / "http.conf")
    assert http["general"]["tlsenable"] == "yes"


def test_only_placeholder_secrets() -> None:
    for path in ASTERISK.glob("*.conf"):
        for line in path.read_text(encoding="utf-8").splitlines():
            key, _, value = line.partition("=")
            if key.strip() in ("secret", "password"):
                assert value.strip().startswith("change-me"), f"{path.name}: {line}"


def test_the_dialplan_has_the_contexts_the_bridge_sends_calls_to() -> None:
    from hotline.bridge.service import BridgeOptions

    options = BridgeOptions("127.0.0.1", 5038, "hotline", "secret")
    contexts = set(sections("extensions.conf"))
    assert {options.callback_context, options.transfer_context} <= contexts


def test_ami_events_carry_the_timestamp_the_bridge_times_calls_by() -> None:
    manager = configparser.ConfigParser()
    manager.read(ASTERISK / "manager.conf")
    assert manager["general"]["timestampevents"] == "yes"


def test_webrtc_endpoints_allow_only_codecs_every_asterisk_can_translate() -> None:
    """codec_opus is not part of an Asterisk built from source: a browser choosing opus would be dropped."""
    pjsip = (ASTERISK / "pjsip.conf").read_text(encoding="utf-8")
    template = pjsip.split("[lawyer-endpoint](!)", 1)[1].split("\n[", 1)[0]
    allowed = [line.split("=", 1)[1].strip() for line in template.splitlines() if line.startswith("allow")]
    assert allowed == ["ulaw,alaw"]
