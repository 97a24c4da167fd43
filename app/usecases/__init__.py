"""Use cases: read, decide through the domain, write, commit, then publish.

Every collaborator comes in through a `Context` (usecases/context.py); nothing
here knows Flask, SQL or Redis.
"""
