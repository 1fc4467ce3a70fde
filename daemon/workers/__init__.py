"""The five worker programs (ear, asr, brain, voice, face): glue between rings and model adapters."""
