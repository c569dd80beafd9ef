"""Speakers from channels and file names, and the labelled text of one or several recordings."""

from __future__ import annotations

from hotline.asr.segments import CALLER, LAWYER, channel_speakers, leg_of, merge_recordings, render


def test_stereo_channels_are_caller_then_lawyer_and_leg_files_are_named() -> None:
    assert channel_speakers("/rec/1795449034.93.wav", 2) == [CALLER, LAWYER]
    assert channel_speakers("/rec/1795449034.93.wav", 1) == [None]
    assert channel_speakers("/rec/1795449034.93-caller.wav", 1) == [CALLER]
    assert channel_speakers("/rec/1795449034.93-out.WAV", 1) == [LAWYER]
    assert leg_of("/rec/x-lawyer.wav") == ("/rec/x", LAWYER)


def test_render_labels_turns_and_joins_a_speakers_utterances() -> None:
    segments = [
        {"speaker": LAWYER, "start": 3.0, "end": 4.0, "text": "请讲"},
        {"speaker": CALLER, "start": 0.0, "end": 1.0, "text": "你好"},
        {"speaker": CALLER, "start": 1.5, "end": 2.5, "text": "我要咨询"},
        {"speaker": CALLER, "start": 5.0, "end": 6.0, "text": ""},
    ]
    assert render(segments) == "来电人：你好 我要咨询\n律师：请讲"
    assert render([{"speaker": None, "start": 0.0, "end": 1.0, "text": "你好"}]) == "你好"
    assert render([]) == ""


def test_leg_files_interleave_and_separate_recordings_follow_each_other() -> None:
    merged = merge_recordings(
        [
            ("/rec/a-caller.wav", [{"speaker": CALLER, "start": 0.0, "end": 1.0, "text": "你好"}]),
            ("/rec/a-lawyer.wav", [{"speaker": LAWYER, "start": 1.2, "end": 2.0, "text": "请讲"}]),
            ("/rec/a-caller.wav", [{"speaker": CALLER, "start": 2.5, "end": 3.0, "text": "欠薪"}]),
            ("/rec/b.wav", [{"speaker": None, "start": 0.0, "end": 1.0, "text": "转接后"}]),
        ]
    )
    assert merged == "来电人：你好\n律师：请讲\n来电人：欠薪\n转接后"
