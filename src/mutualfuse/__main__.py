"""``python -m mutualfuse`` (also what ``torchrun -m mutualfuse train ...`` runs)."""
import sys

from .cli import console_main

sys.exit(console_main())
