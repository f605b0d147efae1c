"""A stand-in for `aglu train` in the study tests: writes a metrics.json derived from its arguments.

top-1 is a per-variant base plus seed², so the study's mean and std can be checked by hand. Setting
FAKE_TRAIN_INTERRUPT to a run folder's name makes that run stop after its checkpoint (exit 1).
The epoch count is --epochs, else the config's trainer.epochs, else 0.
"""

import json
import os
import sys
from pathlib import Path

import yaml

BASE_TOP1 = {("relu", "sigmoid"): 70.0, ("aglu", "apa"): 74.0, ("silu", "sigmoid"): 71.0}


def _config_epochs(path: str) -> int:
    trainer = (yaml.safe_load(Path(path).read_text()) or {}).get("trainer") or {}
    return int(trainer.get("epochs", 0))


def main(argv: list[str]) -> int:
    if argv[0] == "--resume":
        out = Path(argv[1])
        options = json.loads((out / "args.json").read_text())
        options["resumed"] = True
    else:
        options = {"config": argv[0], "resumed": False}
        pairs = iter(argv[1:])
        for item in pairs:
            key, _, value = item.partition("=")
            options[key.lstrip("-")] = value if value else next(pairs)
        out = Path(options["out"])
        out.mkdir(parents=True)
        (out / "args.json").write_text(json.dumps(options))
    with (out / "invocations.txt").open("a") as log:
        log.write(" ".join(argv) + "\n")
    if not options["resumed"] and os.environ.get("FAKE_TRAIN_INTERRUPT") == out.name:
        (out / "checkpoints").mkdir()
        (out / "checkpoints" / "last.ckpt").write_text("epoch 1")
        return 1

    seed = int(options["seed"])
    top1 = BASE_TOP1[(options["model.act_layer"], options["model.gate_layer"])] + seed**2
    rho = 1 / float(options["data.imbalance_factor"])
    metrics = {
        "top1": top1 - rho / 10,
        "many": top1 + 10,
        "medium": top1,
        "few": top1 - 20,
        "ece": 0.01 * (seed + 1),
        "top1_iif": top1 + 2,
        "many_iif": top1 + 5,
        "medium_iif": top1 + 1,
        "few_iif": top1 - 10,
        "ece_iif": 0.02 * (seed + 1),
        "epochs": int(options.get("epochs", _config_epochs(options["config"]))),
    }
    (out / "metrics.json").write_text(json.dumps(metrics))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
