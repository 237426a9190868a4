"""CI helpers behind ``action.yml`` and ``ismap-scan ci …``: the GitHub Action's logic, in Python and tested.

| module | job |
|---|---|
| :mod:`~ismap_scan.ci.github` | the runner's files and workflow commands (``GITHUB_OUTPUT``, ``GITHUB_STEP_SUMMARY``, ``::warning::``) |
| :mod:`~ismap_scan.ci.inputs` | action inputs: parse, validate (every problem at once), pip extras to install |
| :mod:`~ismap_scan.ci.baseline` | compare a scan's results with a baseline ``results.jsonl`` by finding key |
| :mod:`~ismap_scan.ci.policy` | the exit policy: which outcome fails the step |
| :mod:`~ismap_scan.ci.touched` | resources a pull request touches (Terraform plan JSON or an ID list) |
| :mod:`~ismap_scan.ci.markdown` | job summary and pull-request comment bodies |
| :mod:`~ismap_scan.ci.notify` | webhook notifications (generic JSON, Slack incoming webhooks) |
| :mod:`~ismap_scan.ci.steps` | the action's steps (scan, report, bundle, enforce) |

``github`` and ``inputs`` use the standard library only: the action validates its inputs before ismap-scan
and its dependencies are installed (``PYTHONPATH=$GITHUB_ACTION_PATH python -m ismap_scan.ci.inputs``).
Nothing here is imported by ``ismap_scan/__init__``, so the package import stays light.
"""
