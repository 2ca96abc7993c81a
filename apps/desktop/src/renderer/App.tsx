import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { queryKeys, unwrap } from "./bridge.js";

export function App() {
  return (
    <main>
      <h1>Chorus</h1>
      <StatusPanel />
      <ProfilesPanel />
    </main>
  );
}

function StatusPanel() {
  const status = useQuery({
    queryKey: queryKeys.status,
    queryFn: () => unwrap(window.chorus.getStatus()),
    refetchInterval: 2_000,
  });

  return (
    <section aria-labelledby="status-heading">
      <h2 id="status-heading">Sync status</h2>
      {status.isPending && <p>Loading…</p>}
      {status.isError && <p role="alert">Could not read the status: {status.error.message}</p>}
      {status.data && (
        <dl>
          <dt>Profile</dt>
          <dd>{status.data.profile}</dd>
          <dt>Device id</dt>
          <dd>
            <code>{status.data.deviceId}</code>
          </dd>
          <dt>Lamport clock</dt>
          <dd>{status.data.lamport}</dd>
          <dt>Pending changes</dt>
          <dd>{status.data.pendingCount}</dd>
          <dt>Server</dt>
          <dd>{status.data.serverUrl ?? "Not connected (local only)"}</dd>
        </dl>
      )}
    </section>
  );
}

function ProfilesPanel() {
  const queryClient = useQueryClient();
  const [name, setName] = useState("");
  const profiles = useQuery({
    queryKey: queryKeys.profiles,
    queryFn: () => unwrap(window.chorus.listProfiles()),
  });
  const create = useMutation({
    mutationFn: (newName: string) => unwrap(window.chorus.createProfile(newName)),
    onSuccess: async () => {
      setName("");
      await queryClient.invalidateQueries({ queryKey: queryKeys.profiles });
    },
  });

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    create.mutate(name.trim());
  };

  return (
    <section aria-labelledby="profiles-heading">
      <h2 id="profiles-heading">Profiles on this computer</h2>
      {profiles.isError && <p role="alert">{profiles.error.message}</p>}
      <ul>
        {profiles.data?.map((profile) => (
          <li key={profile.name}>{profile.name}</li>
        ))}
      </ul>
      <form onSubmit={submit}>
        <label>
          New profile <input value={name} onChange={(event) => setName(event.target.value)} />
        </label>
        <button type="submit" disabled={create.isPending || name.trim() === ""}>
          Create
        </button>
        {create.isError && <p role="alert">{create.error.message}</p>}
      </form>
    </section>
  );
}
