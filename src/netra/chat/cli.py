"""`netra chat`: a terminal chat through the SDK (netra.client)."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import typer
from rich.console import Console

from netra.client import MfaRequired, NetraClient, NetraError, StreamClosed
from netra.console import client_settings_or_exit

chat_app = typer.Typer(help="Chat with an agent from the terminal.", invoke_without_command=True)
out = Console(highlight=False)
err = Console(stderr=True)


@chat_app.callback()
def chat(
    *,
    url: Annotated[str, typer.Option(help="The backend's URL.")] = "http://127.0.0.1:8000",
    auth_url: Annotated[str | None, typer.Option(help="The auth service (default: --url).")] = None,
    email: Annotated[str | None, typer.Option(help="Sign in as this account.")] = None,
    thread: Annotated[str | None, typer.Option(help="Continue this thread id.")] = None,
    model: Annotated[
        str | None, typer.Option(help="Answer with this catalog model (see GET /api/models).")
    ] = None,
    assistant: Annotated[
        str | None,
        typer.Option(help="Talk to this assistant (its id, see GET /api/assistants)."),
    ] = None,
    message: Annotated[
        str | None,
        typer.Option("--message", "-m", help="Send one message (or /edit, /regen), print, exit."),
    ] = None,
) -> None:
    """Sign in (or use NETRA_TOKEN), open a thread, and talk; Ctrl+D quits. In the chat,
    `/edit TEXT` replaces your last message with TEXT (a new branch the agent answers) and
    `/regen [MODEL]` answers your last message again (a sibling answer)."""
    secret = client_settings_or_exit().netra_token
    token = secret.get_secret_value() if secret is not None else None
    password = None
    if token is None:
        email = email or typer.prompt("Email")
        password = typer.prompt("Password", hide_input=True)
    try:
        asyncio.run(
            _session(
                url,
                auth_url=auth_url,
                token=token,
                email=email,
                password=password,
                thread_id=thread,
                message=message,
                model=model,
                assistant=assistant,
            )
        )
    except (NetraError, StreamClosed) as exc:
        err.print(f"[bold red]{exc}[/]")
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        raise typer.Exit(130) from None


async def _session(
    url: str,
    *,
    auth_url: str | None,
    token: str | None,
    email: str | None,
    password: str | None,
    thread_id: str | None,
    message: str | None,
    model: str | None = None,
    assistant: str | None = None,
) -> None:
    async with NetraClient(url, auth_url=auth_url, access_token=token) as netra:
        if token is None and email is not None and password is not None:
            try:
                await netra.sign_in(email, password)
            except MfaRequired as needed:
                code = await asyncio.to_thread(
                    typer.prompt, "Code from your authenticator app (or a recovery code)"
                )
                factor = {"code": code} if code.strip().isdigit() else {"recovery_code": code}
                await netra.complete_sign_in(needed.mfa_token, **factor)
        if thread_id is None:
            created = await netra.create_thread("Terminal chat", model, assistant)
            thread_id = created.id
            err.print(f"thread {thread_id}")
        elif assistant is not None:
            await netra.set_thread_assistant(thread_id, assistant)
        if assistant is not None and message is None:
            for starter in (await netra.get_assistant(assistant)).starters:
                err.print(f"[dim]try: {starter}[/]")
        if message is not None:
            await _turn(netra, thread_id, message, model)
            return
        while True:
            try:
                text = await asyncio.to_thread(input, "> ")
            except EOFError:
                return
            if text.strip():
                await _turn(netra, thread_id, text.strip(), model)


async def _turn(netra: NetraClient, thread_id: str, text: str, model: str | None) -> None:
    """A message, or one of the commands: `/edit TEXT`, `/regen [MODEL]`."""
    command, _, rest = text.partition(" ")
    if command not in ("/edit", "/regen"):
        await _ask(netra, thread_id, text, model)
        return
    role = "user" if command == "/edit" else "assistant"
    last = [m for m in await netra.shown_branch(thread_id) if m["role"] == role][-1:]
    if not last:
        err.print(f"[yellow]no {'message' if role == 'user' else 'answer'} to {command[1:]} yet[/]")
    elif command == "/edit" and not rest.strip():
        err.print("[yellow]/edit needs the new text: /edit TEXT[/]")
    elif command == "/edit":
        await _print_run(netra, thread_id, await netra.edit(last[0], rest.strip(), model))
    else:
        posted = await netra.regenerate(last[0]["id"], rest.strip() or model)
        await _print_run(netra, thread_id, posted)


async def _ask(netra: NetraClient, thread_id: str, text: str, model: str | None) -> None:
    await _print_run(netra, thread_id, await netra.send(thread_id, text, model=model))


async def _print_run(netra: NetraClient, thread_id: str, posted: dict[str, object]) -> None:
    if posted.get("status") == "queued":
        err.print("[dim]… the server is busy: waiting for a worker[/]")
    async for event in netra.follow(thread_id, posted):
        payload = event.payload
        if event.type == "message_delta":
            out.print(payload["text"], end="")
        elif event.type == "agent_thinking":
            err.print(f"[dim]… {payload['text']}[/]")
        elif event.type == "tool_executing":
            err.print(f"[dim]→ {payload['tool']}({payload['arguments']})[/]")
        elif event.type == "tool_completed" and payload.get("error"):
            err.print(f"[yellow]✗ {payload['tool']}: {payload['error']}[/]")
        elif event.type == "agent_completed":
            out.print()
        elif event.type == "agent_error":
            err.print(f"[bold red]{payload['reason']}[/] ({payload['code']})")
        elif event.type == "approval_required":
            await _approve(netra, event.run_id, payload)


async def _approve(netra: NetraClient, run_id: str, payload: dict[str, Any]) -> None:
    """Ask at the terminal whether the tool call may run; no terminal to ask (a pipe):
    the run waits for another client or APPROVAL_TIMEOUT."""
    err.print(f"[bold]approve {payload['tool']}({payload['arguments']})?[/] [y/N] ", end="")
    try:
        said = await asyncio.to_thread(input)
    except EOFError:
        err.print("[dim]no answer here; it waits for another client or the timeout[/]")
        return
    approved = said.strip().lower() in ("y", "yes")
    try:
        await netra.answer_approval(run_id, payload["call_id"], approved)
    except NetraError as exc:  # answered elsewhere first, or timed out meanwhile
        err.print(f"[yellow]{exc.message}[/]")
