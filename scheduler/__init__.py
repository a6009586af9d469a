"""The domain (classify, policy, plan) and the worker (state, gitlab, jobs) of pdm-bot."""
