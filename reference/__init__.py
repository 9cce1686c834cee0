"""The reference implementation of the AgentOS contract, built only on `generated.agentos`.

store (SQLite) -> executor (asyncio runs, cancel) -> service (AgentosApi) -> app (create_app)
-> serve (`contract serve`).
"""
