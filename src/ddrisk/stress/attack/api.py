"""One entry point per job, shared by the CLI, the report and Python users.

* :func:`run_attack_request`: start (or resume) an adaptive attack and analyse it;
* :func:`show_attack`: analyse a stored attack;
* :func:`describe_operators`: the operators, documented.

An :class:`AttackRequest` holds every option; its defaults are the default
adaptive experiment (built-in layers, 30 harmful behaviors of the default data,
every available operator, beam search with 30 queries per behavior and target).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ddrisk.errors import InputError
from ddrisk.stress.attack.experiment import (
    AttackPlan,
    AttackRunResult,
    Progress,
    execute_attack,
    harmful_behaviors,
    prepare_attack,
)
from ddrisk.stress.attack.operators import Operator
from ddrisk.stress.attack.registry import build_registry, load_operators_file, select_operators
from ddrisk.stress.attack.results import attack_data
from ddrisk.stress.attack.search import SearchSettings
from ddrisk.stress.attack.statistics import DEFAULT_BOOTSTRAP, AttackAnalysis, analyze_attack
from ddrisk.stress.attack.store import AttackRecord, AttackStore
from ddrisk.stress.layer import Layer

DEFAULT_FAMILIES = ("harmful_direct",)
#: Behaviors the default experiment attacks (a seeded sample of the default families).
DEFAULT_BEHAVIORS = 30


@dataclass(frozen=True)
class AttackRequest:
    """Every option of an adaptive attack (see ``ddrisk stress attack --help``)."""

    data_path: Path | None = None
    families: Sequence[str] | None = None
    layers_path: Path | None = None
    runs_dir: Path = Path("ddrisk-runs")
    resume: str | None = None
    limit: int | None = DEFAULT_BEHAVIORS
    budget: int = SearchSettings.budget
    beam_width: int = SearchSettings.beam_width
    max_depth: int = SearchSettings.max_depth
    batch_size: int = SearchSettings.batch_size
    strategy: str = SearchSettings.strategy
    operator_names: Sequence[str] | None = None
    operators_file: Path | None = None
    stack: bool = True
    per_layer: bool = True
    seed: int = 0
    use_cache: bool = True
    target_url: str | None = None
    target_model: str | None = None
    target_api_key_env: str | None = None
    target_max_tokens: int = 256
    target_system_prompt: str | None = None
    output_layers_path: Path | None = None
    argv: tuple[str, ...] | None = None


def _operators(
    names: Sequence[str] | None, operators_file: Path | None
) -> tuple[list[Operator], dict[str, Any]]:
    registry, unavailable = build_registry()
    info: dict[str, Any] = {"unavailable": unavailable}
    if operators_file is not None:
        extra, sha = load_operators_file(operators_file, registry)
        registry.update({op.name: op for op in extra})
        info["operators_file"] = {"path": str(Path(operators_file).resolve()), "sha256": sha}
    return select_operators(names, registry, unavailable, source="--operators"), info


def describe_operators(*, operators_file: Path | None = None) -> list[dict[str, Any]]:
    """Every operator (and every unavailable one, with its reason) as dictionaries."""
    registry, unavailable = build_registry()
    if operators_file is not None:
        extra, _ = load_operators_file(operators_file, registry)
        registry.update({op.name: op for op in extra})
    rows = [op.to_dict() for op in registry.values()]
    rows += [
        {
            "name": name,
            "category": "-",
            "description": "",
            "reversible": False,
            "reversible_when": None,
            "source": "-",
            "parameters": {},
            "unavailable": reason,
        }
        for name, reason in unavailable.items()
    ]
    return rows


def _build_stack(
    request: AttackRequest,
    *,
    store: AttackStore,
    input_specs: list[dict[str, Any]],
    input_source: str,
    output_specs: list[dict[str, Any]] | None,
    output_source: str,
    target: dict[str, Any] | None,
) -> tuple[list[Layer], dict[str, str]]:
    from ddrisk.stress.config import build_layers

    layers = build_layers(input_specs, source=input_source, artifact_dir=store.cache_dir)
    sides = {layer.name: "input" for layer in layers}
    if target is not None:
        from ddrisk.stress.attack.target import target_model_layer

        model = target_model_layer(**target)
        layers.append(model)
        sides[model.name] = "model"
        if output_specs:
            outputs = build_layers(output_specs, source=output_source, artifact_dir=store.cache_dir)
            for layer in outputs:
                if layer.name in sides:
                    raise InputError(
                        output_source,
                        f"layer '{layer.name}'",
                        "an output layer has the name of an input layer or the model",
                        "give each layer a distinct 'name'",
                    )
                sides[layer.name] = "output"
            layers += outputs
    elif output_specs:
        raise InputError(
            "<parameters>",
            "output_layers_path",
            "output layers judge a target model's answers",
            "give target_url and target_model, or drop output_layers_path",
        )
    return layers, sides


def run_attack_request(
    request: AttackRequest,
    *,
    progress: Progress | None = None,
    n_bootstrap: int = DEFAULT_BOOTSTRAP,
) -> tuple[AttackRunResult, AttackAnalysis, dict[str, Any]]:
    """Start or resume an attack, run it to completion, and analyse it."""
    from ddrisk.stress.config import DEFAULT_LAYER_SPECS, load_layer_specs, redact_specs

    store = AttackStore(request.runs_dir)
    if request.resume is not None:
        return _resume(request, store=store, progress=progress, n_bootstrap=n_bootstrap)
    if request.target_url is not None and not request.target_model:
        raise InputError(
            "<command line>",
            "--target-model",
            "a target URL needs a model name",
            "add --target-model NAME",
        )
    from ddrisk.stress.datasets import load_default_dataset, load_items_file
    from ddrisk.stress.items import stratified_slice

    if request.data_path is not None:
        dataset = load_items_file(request.data_path)
        families = request.families
    else:
        dataset = load_default_dataset(seed=request.seed)
        families = request.families or DEFAULT_FAMILIES
    behaviors = harmful_behaviors(dataset, families=families)
    if request.limit is not None:
        behaviors = stratified_slice(behaviors, request.limit, seed=request.seed)
    operators, operator_info = _operators(request.operator_names, request.operators_file)
    plan = AttackPlan(
        settings=SearchSettings(
            budget=request.budget,
            beam_width=request.beam_width,
            max_depth=request.max_depth,
            batch_size=request.batch_size,
            strategy=request.strategy,
        ),
        operators=tuple(operators),
        seed=request.seed,
        per_layer=request.per_layer,
        stack=request.stack,
    )
    if request.layers_path is not None:
        input_specs, input_source = load_layer_specs(request.layers_path), str(request.layers_path)
    else:
        input_specs, input_source = (
            [dict(s) for s in DEFAULT_LAYER_SPECS],
            "built-in default layers",
        )
    output_specs = (
        load_layer_specs(request.output_layers_path) if request.output_layers_path else None
    )
    target = None
    if request.target_url is not None:
        target = {
            "base_url": request.target_url,
            "model": str(request.target_model),
            "api_key_env": request.target_api_key_env,
            "max_tokens": request.target_max_tokens,
            "system_prompt": request.target_system_prompt,
        }
    layers, sides = _build_stack(
        request,
        store=store,
        input_specs=input_specs,
        input_source=input_source,
        output_specs=output_specs,
        output_source=str(request.output_layers_path),
        target=target,
    )
    stored_specs = {
        "input": redact_specs(input_specs),
        "output": redact_specs(output_specs or []),
        "target": target,  # holds the key's variable name, never the key
    }
    attack_dir = prepare_attack(
        dataset=dataset,
        behaviors=behaviors,
        layers=layers,
        sides=sides,
        layer_specs=[stored_specs],
        plan=plan,
        store=store,
        extra_manifest={
            **operator_info,
            "families": list(families) if families else None,
            "use_cache": request.use_cache,
        },
        argv=request.argv,
    )
    result = execute_attack(
        attack_dir,
        layers=layers,
        plan=plan,
        store=store,
        use_cache=request.use_cache,
        progress=progress,
    )
    analysis, manifest = show_attack(attack_dir, runs_dir=request.runs_dir, n_bootstrap=n_bootstrap)
    return result, analysis, manifest


def _resume(
    request: AttackRequest, *, store: AttackStore, progress: Progress | None, n_bootstrap: int
) -> tuple[AttackRunResult, AttackAnalysis, dict[str, Any]]:
    from ddrisk.stress.config import specs_have_redactions

    if request.resume == "unfinished":
        found = store.latest_unfinished()
        if found is None:
            raise InputError(
                str(store.attacks_dir),
                "--resume",
                "no unfinished attack to resume",
                "start one with 'ddrisk stress attack' (or name one: --resume ATTACK)",
            )
        attack_dir = found
    else:
        attack_dir = store.resolve(str(request.resume))
    record = AttackRecord(attack_dir)
    try:
        manifest = record.manifest
        stored = (record.layer_specs or [{}])[0]
    finally:
        record.close()
    plan_data = manifest.get("attack", {})
    operators_file = None
    if plan_data.get("operators_file"):
        operators_file = Path(plan_data["operators_file"]["path"])
    operators, _ = _operators([op["name"] for op in plan_data.get("operators", [])], operators_file)
    settings = SearchSettings(**plan_data["settings"])
    plan = AttackPlan(
        settings=settings,
        operators=tuple(operators),
        seed=int(plan_data.get("seed", 0)),
        per_layer=bool(plan_data.get("per_layer", True)),
        stack=bool(plan_data.get("stack", True)),
    )
    input_specs, output_specs = stored.get("input", []), stored.get("output", [])
    source = f"{attack_dir} (stored layers)"
    if request.layers_path is not None:
        from ddrisk.stress.config import load_layer_specs

        input_specs, source = load_layer_specs(request.layers_path), str(request.layers_path)
    elif specs_have_redactions(input_specs) or specs_have_redactions(output_specs):
        raise InputError(
            str(attack_dir),
            "layer_specs",
            "the stored layers had secret values removed",
            "resume with layers_path (and output_layers_path) naming the original files",
        )
    if request.output_layers_path is not None:
        from ddrisk.stress.config import load_layer_specs

        output_specs = load_layer_specs(request.output_layers_path)
    layers, _ = _build_stack(
        request,
        store=store,
        input_specs=input_specs,
        input_source=source,
        output_specs=output_specs,
        output_source=source,
        target=stored.get("target"),
    )
    result = execute_attack(
        attack_dir,
        layers=layers,
        plan=plan,
        store=store,
        use_cache=bool(plan_data.get("use_cache", True)),
        progress=progress,
        resumed=True,
    )
    analysis, manifest = show_attack(attack_dir, runs_dir=request.runs_dir, n_bootstrap=n_bootstrap)
    return result, analysis, manifest


def show_attack(
    attack: str | Path,
    *,
    runs_dir: str | Path = "ddrisk-runs",
    n_bootstrap: int = DEFAULT_BOOTSTRAP,
    seed: int | None = None,
) -> tuple[AttackAnalysis, dict[str, Any]]:
    """The analysis of a stored attack (folder, id or ``latest``) and its manifest."""
    record = AttackRecord(AttackStore(runs_dir).resolve(attack))
    try:
        data = attack_data(record)
        manifest = record.manifest
        status = record.status
    finally:
        record.close()
    manifest = {**manifest, "status": status}
    return analyze_attack(data, n_bootstrap=n_bootstrap, seed=seed), manifest
