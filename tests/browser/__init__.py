"""Browser tests: a real JupyterLab and Voila page driven by Playwright in Debian Chromium."""
