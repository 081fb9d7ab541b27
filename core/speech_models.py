"""Which Whisper weights read which language (settings WHISPER_MODEL, WHISPER_MODEL_ENGLISH)."""

from django.conf import settings


def whisper_model_for(language: str) -> str:
    return settings.WHISPER_MODEL_ENGLISH if language.lower().startswith("en") else settings.WHISPER_MODEL
