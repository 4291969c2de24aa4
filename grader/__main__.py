"""``python -m grader VERB``: the course's command line."""

from grader.cli import main

raise SystemExit(main())
