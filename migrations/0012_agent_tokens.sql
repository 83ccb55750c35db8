-- Agent tokens (docs/security.md): in auth.mode=token a bearer token is an agent's identity. Only
-- the SHA-256 of a token is stored; the token itself is shown once, when it is issued.
create table agent_tokens (
  id           uuid primary key,
  agent        text not null,
  label        text,
  hash         bytea not null unique,
  created_at   timestamptz not null,
  last_used_at timestamptz,
  revoked_at   timestamptz
);
create index agent_tokens_agent_idx on agent_tokens (agent, created_at);
