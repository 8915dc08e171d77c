"""Prompt and post-template files (front matter + Jinja body), loaded by
:mod:`bot.infra.prompts`. A package so the files ship with the distribution."""
