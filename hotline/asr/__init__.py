"""Offline speech recognition of call recordings and voicemails with Vosk (no audio leaves the machine).

audio.py decodes what Asterisk writes, model.py loads the configured model once per process,
recognizer.py runs Vosk, chinese.py tidies its output, transcribe.py puts these together for one
file and store.py keeps the result. The job around them is hotline/jobs/transcription.py, started
by the `RecordingFinished` event the bridge and the IVR record.
"""
