"""Models from the Hugging Face hub (needs internet on first fetch): the whole repository,
or one folder of it (``ModelSpec.hf_subfolder``, e.g. one size of a conversion), at
``hf_revision``. ``fetch.py`` hashes what arrived and records it (checksum on first
download); a missing network gives one message saying where the files come from and how
to place them by hand."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

from asr_models.errors import ModelError
from asr_models.registry import ModelSpec


def build_from_hub(spec: ModelSpec, tmp: Path, progress: Callable[[str], None]) -> None:
    assert spec.hf_repo is not None
    where = f"https://huggingface.co/{spec.hf_repo}"
    if spec.hf_subfolder:
        where += f"/tree/{spec.hf_revision or 'main'}/{spec.hf_subfolder}"
    progress(f"{spec.name}: downloading {where}")
    try:
        if spec.hf_subfolder:
            from huggingface_hub import snapshot_download  # comes with faster-whisper

            snapshot_download(
                spec.hf_repo,
                revision=spec.hf_revision,
                allow_patterns=[f"{spec.hf_subfolder}/*"],
                local_dir=str(tmp),
            )
            folder = tmp / spec.hf_subfolder
            for path in folder.iterdir():
                os.replace(path, tmp / path.name)
            folder.rmdir()
        else:
            from faster_whisper.utils import download_model  # heavy import, only when needed

            download_model(spec.hf_repo, output_dir=str(tmp), revision=spec.hf_revision)
    except Exception as exc:
        raise ModelError(
            f"{spec.name}: could not download {where} ({exc}). "
            f"Without internet, copy model.bin, config.json, tokenizer.json and "
            f"vocabulary.* from there into {tmp.parent / spec.name}/ and run "
            f"`callbot models verify {spec.name}`."
        ) from exc
    # The hub client leaves its own cache folder; it is not part of the model.
    shutil.rmtree(tmp / ".cache", ignore_errors=True)
