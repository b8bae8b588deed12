"""The one audio format on the call path: what Asterisk's AudioSocket() app speaks."""

SAMPLE_RATE = 8000  # AudioSocket() is always 8 kHz signed linear
SAMPLE_WIDTH = 2  # bytes, little-endian, mono
FRAME_MS = 20
FRAME_BYTES = SAMPLE_RATE * SAMPLE_WIDTH * FRAME_MS // 1000  # 320
BYTES_PER_MS = SAMPLE_RATE * SAMPLE_WIDTH // 1000  # 16
SILENCE_FRAME = bytes(FRAME_BYTES)


def duration_ms(pcm_bytes: int) -> int:
    return pcm_bytes // BYTES_PER_MS
