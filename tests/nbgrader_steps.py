"""Run nbgrader commands one after another in this one Python process.

    python nbgrader_steps.py steps.json

``steps.json`` holds a list of ``{"cwd": folder, "home": folder, "args": [...]}``: each step runs as
``cd cwd; HOME=home nbgrader args...`` would. nbgrader takes about 2.5 s to start; a course cycle in
``test_assignments.py`` runs 51 commands, so they run in five processes instead of 51. Each command
runs as nbgrader's own tests run it in-process (``nbgrader.tests.run_nbgrader``): initialise, start,
then ``reset()`` the application. Stops at the first failing command, printing its log.
"""

import json
import logging
import os
import sys
from io import StringIO

from jupyter_core.application import NoStart
from nbgrader.apps import NbGraderApp


def run(cwd: str, home: str, args: list) -> tuple:
    os.chdir(cwd)
    os.environ["HOME"] = home
    app, log = NbGraderApp.instance(), StringIO()
    try:
        app.initialize(args)
        app.init_logging(logging.StreamHandler, [log], color=False, subapps=True)
        app.start()
        code = 0
    except NoStart:
        code = 0
    except SystemExit as stop:
        code = stop.code
    finally:
        app.reset()
    return code, log.getvalue()


def main() -> int:
    with open(sys.argv[1]) as handle:
        steps = json.load(handle)
    for step in steps:
        code, log = run(step["cwd"], step["home"], step["args"])
        if code:
            print(f"nbgrader {' '.join(step['args'])} (in {step['cwd']}) exited with {code}:\n{log}")
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
