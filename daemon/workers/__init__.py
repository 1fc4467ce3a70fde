"""The five stages (ear, asr, brain, voice, face) as plain objects between their messages and the model
adapters; daemon/worker.py runs each as a worker process."""
