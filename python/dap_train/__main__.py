"""Command line of the torch executor: ``python -m dap_train train RUN_DIR [--resume CKPT] [--max-steps N]``,
``python -m dap_train env``, ``estimate ...``, ``logps ...`` (CONTRACT.md §1) and ``generate ...``
(generate.py: continuations with model.generate for `dap generate --executor torch`). Library logging and
progress bars go to stderr; stdout carries only JSON (events, or the env / estimate object)."""

import argparse
import os
import sys


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m dap_train", description="DAP Studio's torch executor")
    sub = p.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="train a run folder prepared by the DAP Studio host")
    t.add_argument("run_dir")
    t.add_argument("--resume", metavar="CKPT", help="checkpoint folder (RUN_DIR/checkpoints/STAGE-step-N) to continue from")
    t.add_argument("--max-steps", type=int, metavar="N", help="train to N optimizer steps instead of config.json's maxSteps (e.g. a resumed run trained further)")
    sub.add_parser("env", help="print the Python environment and devices as JSON")
    e = sub.add_parser("estimate", help="print a memory estimate as JSON")
    from .estimate import add_arguments
    from .score import add_arguments as add_score_arguments
    from .generate import add_arguments as add_generate_arguments

    add_arguments(e)
    add_score_arguments(sub.add_parser("logps", help="print the completion log-probs of tokenized examples as JSON lines"))
    add_generate_arguments(sub.add_parser("generate", help="print continuations of tokenized prompts (model.generate) as JSON lines"))
    args = p.parse_args(argv)
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if args.command == "env":
        from .env import env_main

        return env_main()
    if args.command == "logps":
        from .score import score_main

        return score_main(args)
    if args.command == "generate":
        from .generate import generate_main

        return generate_main(args)
    if args.command == "estimate":
        from .estimate import estimate_main

        return estimate_main(args)
    from .run import train_main

    if args.max_steps is not None and args.max_steps < 1:
        p.error(f"--max-steps: expected a positive integer, got {args.max_steps}")
    return train_main(args.run_dir, args.resume, args.max_steps)


if __name__ == "__main__":
    sys.exit(main())
