"""Test driver: trains several prepared run folders in ONE Python process (python -m dap_train train
would pay torch's ~5-10 s import per run), through the same entry point as the CLI (run.train_main).
Exit status: the highest of the runs'."""

import sys

from dap_train.run import train_main

sys.exit(max(train_main(d) for d in sys.argv[1:]))
