"""The issue tracker in the loop: one small interface (`base`), GitHub through PyGithub
(`github`), GitLab through python-gitlab (`gitlab`), chosen from an issue URL's host (`choose`).

Issue bodies and notes are rendered without I/O in `render`; `http` holds what both clients
share (timeouts, bounded retries, token handling). The client libraries are imported only when
a tracker is built, so `flagops validate` without --check-links never loads them.
"""
