"""What a visitor sees and hears: renderer, avatar rig, behaviour, audio output, recording."""
