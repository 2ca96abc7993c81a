import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { useTranslations } from "use-intl";
import { Alerts } from "../Alerts.js";
import { LIVE_REFETCH_MS, queryKeys, unwrap } from "../bridge.js";

/** Invalidates every library view after an edit (the engine is the source of truth). */
function useLibraryEdit<T>(change: (input: T) => Promise<unknown>) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: change,
    onSettled: async () => {
      await queryClient.invalidateQueries({ queryKey: queryKeys.library });
      await queryClient.invalidateQueries({ queryKey: queryKeys.diagnostics });
    },
  });
}

export function LibraryPage() {
  const t = useTranslations("Desktop.library");
  const [selected, setSelected] = useState<string | null>(null);
  const playlists = useQuery({
    queryKey: queryKeys.playlists,
    queryFn: () => unwrap(window.chorus.listPlaylists()),
    refetchInterval: LIVE_REFETCH_MS,
  });
  const [name, setName] = useState("");
  const create = useLibraryEdit((playlistName: string) =>
    unwrap(window.chorus.createPlaylist(playlistName)),
  );
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    create.mutate(name.trim(), {
      onSuccess: (created) => {
        setName("");
        setSelected((created as { id: string }).id);
      },
    });
  };
  const current = playlists.data?.find((p) => p.id === selected) ?? null;

  return (
    <div className="library">
      <section aria-labelledby="playlists-heading" className="panel">
        <h2 id="playlists-heading">{t("playlists")}</h2>
        {playlists.isError && <p role="alert">{playlists.error.message}</p>}
        {playlists.data?.length === 0 && <p className="muted">{t("noPlaylists")}</p>}
        <ul className="list" aria-label={t("playlists")}>
          {playlists.data?.map((playlist) => (
            <li key={playlist.id}>
              <button
                type="button"
                className="item"
                aria-current={playlist.id === selected ? "true" : undefined}
                onClick={() => setSelected(playlist.id)}
              >
                <span>{playlist.name}</span>
                <span className="muted">{t("trackCount", { count: playlist.entryCount })}</span>
              </button>
            </li>
          ))}
        </ul>
        <form onSubmit={submit} className="row">
          <label>
            <span className="label">{t("newPlaylist")}</span>
            <input
              value={name}
              onChange={(event) => setName(event.target.value)}
              placeholder={t("playlistName")}
            />
          </label>
          <button type="submit" disabled={create.isPending || name.trim() === ""}>
            {t("create")}
          </button>
        </form>
        {create.isError && <p role="alert">{create.error.message}</p>}
      </section>
      <section className="panel" aria-live="polite">
        {current ? (
          <PlaylistView id={current.id} onDeleted={() => setSelected(null)} />
        ) : (
          <p className="muted">{t("selectPlaylist")}</p>
        )}
      </section>
      <TracksPanel playlistId={current?.id ?? null} playlistName={current?.name ?? null} />
    </div>
  );
}

function PlaylistView({ id, onDeleted }: { id: string; onDeleted(): void }) {
  const t = useTranslations("Desktop.library");
  const playlist = useQuery({
    queryKey: queryKeys.playlist(id),
    queryFn: () => unwrap(window.chorus.getPlaylist(id)),
    refetchInterval: LIVE_REFETCH_MS,
  });
  const [renaming, setRenaming] = useState<string | null>(null);
  const rename = useLibraryEdit((name: string) => unwrap(window.chorus.renamePlaylist(id, name)));
  const remove = useLibraryEdit(() => unwrap(window.chorus.deletePlaylist(id)));
  const move = useLibraryEdit((input: { entryId: string; after?: string; before?: string }) =>
    unwrap(window.chorus.moveEntry(input)),
  );
  const removeEntry = useLibraryEdit((entryId: string) =>
    unwrap(window.chorus.removeEntry(entryId)),
  );
  const data = playlist.data;
  if (!data) return null;
  const entries = data.entries;

  return (
    <div>
      {renaming === null ? (
        <div className="row">
          <h2>{data.name}</h2>
          <button type="button" onClick={() => setRenaming(data.name)}>
            {t("rename")}
          </button>
          <button
            type="button"
            className="danger"
            onClick={() => remove.mutate(undefined, { onSuccess: onDeleted })}
          >
            {t("deletePlaylist")}
          </button>
        </div>
      ) : (
        <form
          className="row"
          onSubmit={(event) => {
            event.preventDefault();
            rename.mutate(renaming.trim(), { onSuccess: () => setRenaming(null) });
          }}
        >
          <label>
            <span className="label">{t("playlistName")}</span>
            <input value={renaming} onChange={(event) => setRenaming(event.target.value)} />
          </label>
          <button type="submit" disabled={renaming.trim() === ""}>
            {t("save")}
          </button>
          <button type="button" onClick={() => setRenaming(null)}>
            {t("cancel")}
          </button>
        </form>
      )}
      <Alerts errors={[rename.error, remove.error, move.error, removeEntry.error]} />
      {entries.length === 0 ? (
        <p className="muted">{t("emptyPlaylist")}</p>
      ) : (
        <ol className="list" aria-label={data.name}>
          {entries.map((entry, index) => (
            <li key={entry.id} className="row">
              <span className="grow">
                {entry.track.title}
                <span className="muted"> — {entry.track.artist ?? t("unknownArtist")}</span>
              </span>
              <button
                type="button"
                disabled={index === 0}
                aria-label={t("moveUp")}
                onClick={() =>
                  move.mutate({ entryId: entry.id, before: entries[index - 1]?.id as string })
                }
              >
                ↑
              </button>
              <button
                type="button"
                disabled={index === entries.length - 1}
                aria-label={t("moveDown")}
                onClick={() =>
                  move.mutate({ entryId: entry.id, after: entries[index + 1]?.id as string })
                }
              >
                ↓
              </button>
              <button type="button" onClick={() => removeEntry.mutate(entry.id)}>
                {t("remove")}
              </button>
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}

function TracksPanel({
  playlistId,
  playlistName,
}: {
  playlistId: string | null;
  playlistName: string | null;
}) {
  const t = useTranslations("Desktop.library");
  const tracks = useQuery({
    queryKey: queryKeys.tracks,
    queryFn: () => unwrap(window.chorus.listTracks()),
    refetchInterval: LIVE_REFETCH_MS,
  });
  const [title, setTitle] = useState("");
  const [artist, setArtist] = useState("");
  const add = useLibraryEdit((track: { title: string; artist: string | null }) =>
    unwrap(window.chorus.addTrack(track)),
  );
  const addEntry = useLibraryEdit((trackId: string) =>
    unwrap(window.chorus.addEntry({ playlistId: playlistId as string, trackId })),
  );
  const remove = useLibraryEdit((id: string) => unwrap(window.chorus.deleteTrack(id)));

  return (
    <section aria-labelledby="tracks-heading" className="panel">
      <h2 id="tracks-heading">{t("tracks")}</h2>
      {tracks.data?.length === 0 && <p className="muted">{t("noTracks")}</p>}
      <ul className="list">
        {tracks.data?.map((track) => (
          <li key={track.id} className="row">
            <span className="grow">
              {track.title}
              <span className="muted"> — {track.artist ?? t("unknownArtist")}</span>
            </span>
            {playlistId && playlistName && (
              <button type="button" onClick={() => addEntry.mutate(track.id)}>
                {t("addToPlaylist", { playlist: playlistName })}
              </button>
            )}
            <button type="button" className="danger" onClick={() => remove.mutate(track.id)}>
              {t("deleteTrack")}
            </button>
          </li>
        ))}
      </ul>
      <form
        className="row"
        onSubmit={(event) => {
          event.preventDefault();
          add.mutate(
            { title: title.trim(), artist: artist.trim() || null },
            {
              onSuccess: () => {
                setTitle("");
                setArtist("");
              },
            },
          );
        }}
      >
        <label>
          <span className="label">{t("trackTitle")}</span>
          <input value={title} onChange={(event) => setTitle(event.target.value)} />
        </label>
        <label>
          <span className="label">{t("trackArtist")}</span>
          <input value={artist} onChange={(event) => setArtist(event.target.value)} />
        </label>
        <button type="submit" disabled={add.isPending || title.trim() === ""}>
          {t("addTrack")}
        </button>
      </form>
      <Alerts errors={[add.error, addEntry.error, remove.error]} />
    </section>
  );
}
