"""Use cases `f(ctx, now, …)`: load through the ports, ask the domain, act, tell (typed messages), audit.

deploys (a package deployed or deploying), evaluation (decide and act), approvals (proposals, `/pdm run`,
approve / reject / snooze), execution (exactly one pipeline per run, polling, reconcile), operator
(pause, hold, baseline), delivery (the Slack outbox sender), audit and authorisation.
"""
