import sys

from tui_app.cli import main

sys.exit(main())
