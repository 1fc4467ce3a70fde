"""The visitor's side: what the kiosk hears (microphone and file sources, utterance detection, endpointing,
the echo reference) and what a visitor sees and hears (renderer, avatar rig, behaviour, speaker, recording)."""
