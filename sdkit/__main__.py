import sys

from sdkit.cli import main

sys.exit(main())
