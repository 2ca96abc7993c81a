import type { PlaylistSummary, Track } from "@chorus/desktop-sync/contract";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useEffect, useId, useRef, useState } from "react";
import { useLocale, useTranslations } from "use-intl";
import { Alerts } from "../Alerts.js";
import { LIVE_REFETCH_MS, queryKeys, unwrap } from "../bridge.js";
import { checkName, type FieldProblem, useFieldProblemText } from "../errors.js";
import { OverwrittenNotices } from "../OverwrittenNotice.js";
import { PlaylistCover } from "../PlaylistCover.js";
import { useUndo } from "../undo.js";
import { VirtualList } from "../VirtualList.js";

/** Invalidates every library view after an edit (the engine is the source of truth). */
function useLibraryEdit<T, R = unknown>(change: (input: T) => Promise<R>) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: change,
    onSettled: async () => {
      await queryClient.invalidateQueries({ queryKey: queryKeys.library });
      await queryClient.invalidateQueries({ queryKey: queryKeys.diagnostics });
    },
  });
}

/** Case- and accent-insensitive "contains", in the user's language. */
function matcher(query: string, locale: string) {
  const collator = new Intl.Collator(locale, { sensitivity: "base", usage: "search" });
  const needle = query.trim();
  if (needle === "") return () => true;
  return (text: string | null) => {
    if (!text) return false;
    for (let i = 0; i + needle.length <= text.length; i++) {
      if (collator.compare(text.slice(i, i + needle.length), needle) === 0) return true;
    }
    return false;
  };
}

export function LibraryPage() {
  const t = useTranslations("Desktop.library");
  const locale = useLocale();
  const { hidden } = useUndo();
  const [selected, setSelected] = useState<string | null>(null);
  const [query, setQuery] = useState("");
  const playlists = useQuery({
    queryKey: queryKeys.playlists,
    queryFn: () => unwrap(window.chorus.listPlaylists()),
    refetchInterval: LIVE_REFETCH_MS,
  });
  const matches = matcher(query, locale);
  const visible = (playlists.data ?? []).filter((p) => !hidden.has(p.id) && matches(p.name));
  const current = playlists.data?.find((p) => p.id === selected && !hidden.has(p.id)) ?? null;

  return (
    <div className="library-page">
      <div className="page-head">
        <h1 id="library-heading" tabIndex={-1}>
          {t("title")}
        </h1>
        <label className="search">
          <span className="label">{t("search")}</span>
          <input
            type="search"
            value={query}
            placeholder={t("searchPlaceholder")}
            onChange={(event) => setQuery(event.target.value)}
            data-testid="library-search"
          />
        </label>
      </div>
      <div className="library">
        <PlaylistsPanel
          playlists={visible}
          total={playlists.data?.length ?? 0}
          filtered={query.trim() !== ""}
          selected={current?.id ?? null}
          onSelect={setSelected}
          error={playlists.error}
        />
        <section className="panel" aria-labelledby="playlist-heading" aria-live="polite">
          {current ? (
            <PlaylistView
              key={current.id}
              id={current.id}
              onDeleted={() => setSelected(null)}
              onRestored={() => setSelected(current.id)}
            />
          ) : (
            <>
              <h2 id="playlist-heading" className="visually-hidden">
                {t("playlist")}
              </h2>
              <p className="muted">{t("selectPlaylist")}</p>
            </>
          )}
        </section>
        <TracksPanel
          playlistId={current?.id ?? null}
          playlistName={current?.name ?? null}
          matches={matches}
          filtered={query.trim() !== ""}
        />
      </div>
    </div>
  );
}

function PlaylistsPanel({
  playlists,
  total,
  filtered,
  selected,
  onSelect,
  error,
}: {
  playlists: PlaylistSummary[];
  total: number;
  filtered: boolean;
  selected: string | null;
  onSelect(id: string): void;
  error: Error | null;
}) {
  const t = useTranslations("Desktop.library");
  const problemText = useFieldProblemText();
  const [name, setName] = useState("");
  const [problem, setProblem] = useState<FieldProblem | null>(null);
  const inputId = useId();
  const create = useLibraryEdit((playlistName: string) =>
    unwrap(window.chorus.createPlaylist({ name: playlistName })),
  );
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const found = checkName(name);
    setProblem(found);
    if (found) return;
    // The field empties at once, so a name typed while the engine answers is not wiped
    // afterwards; a refused name comes back for correction.
    const submitted = name.trim();
    setName("");
    create.mutate(submitted, {
      onSuccess: (created) => onSelect(created.id),
      onError: () => setName((current) => (current === "" ? submitted : current)),
    });
  };

  return (
    <section aria-labelledby="playlists-heading" className="panel">
      <h2 id="playlists-heading">{t("playlists")}</h2>
      <Alerts errors={[create.error, error]} />
      {total === 0 && <p className="muted">{t("noPlaylists")}</p>}
      {total > 0 && playlists.length === 0 && filtered && <p className="muted">{t("noMatches")}</p>}
      <VirtualList
        items={playlists}
        itemKey={(playlist) => playlist.id}
        label={t("playlists")}
        testId="playlists"
        renderRow={(playlist) => (
          <button
            type="button"
            className="item"
            data-playlist-id={playlist.id}
            aria-current={playlist.id === selected ? "true" : undefined}
            onClick={() => onSelect(playlist.id)}
          >
            <span className="name">{playlist.name}</span>
            <span className="muted count">{t("trackCount", { count: playlist.entryCount })}</span>
          </button>
        )}
      />
      <form onSubmit={submit} className="new-playlist" noValidate>
        <label htmlFor={inputId}>
          <span className="label">{t("newPlaylist")}</span>
        </label>
        <div className="row">
          <input
            id={inputId}
            className="grow"
            value={name}
            onChange={(event) => setName(event.target.value)}
            placeholder={t("playlistName")}
            aria-invalid={problem ? true : undefined}
            aria-describedby={problem ? `${inputId}-error` : undefined}
          />
          <button type="submit" className="primary" disabled={create.isPending}>
            {t("create")}
          </button>
        </div>
      </form>
      {problem && (
        <p id={`${inputId}-error`} className="error">
          {problemText(problem)}
        </p>
      )}
    </section>
  );
}

function PlaylistView({
  id,
  onDeleted,
  onRestored,
}: {
  id: string;
  onDeleted(): void;
  onRestored(): void;
}) {
  const t = useTranslations("Desktop.library");
  const problemText = useFieldProblemText();
  const undo = useUndo();
  const playlist = useQuery({
    queryKey: queryKeys.playlist(id),
    queryFn: () => unwrap(window.chorus.getPlaylist({ id })),
    refetchInterval: LIVE_REFETCH_MS,
  });
  const [renaming, setRenaming] = useState<string | null>(null);
  const [problem, setProblem] = useState<FieldProblem | null>(null);
  const renameButton = useRef<HTMLButtonElement>(null);
  const renameInput = useRef<HTMLInputElement>(null);
  const wasRenaming = useRef(false);
  const rename = useLibraryEdit((name: string) =>
    unwrap(window.chorus.renamePlaylist({ id, name })),
  );
  const move = useLibraryEdit((input: { entryId: string; after?: string; before?: string }) =>
    unwrap(window.chorus.moveEntry(input)),
  );
  const removeEntry = useLibraryEdit((entryId: string) =>
    unwrap(window.chorus.removeEntry({ entryId })),
  );
  const queryClient = useQueryClient();
  // Drag and drop beside the arrow buttons: the entry being dragged, and the row under it.
  const [dragged, setDragged] = useState<string | null>(null);
  const [dropOn, setDropOn] = useState<string | null>(null);

  // Focus follows the rename: into the field when it opens, back to Rename when it closes.
  useEffect(() => {
    if (renaming !== null && !wasRenaming.current) {
      renameInput.current?.focus();
      renameInput.current?.select();
    }
    if (renaming === null && wasRenaming.current) renameButton.current?.focus();
    wasRenaming.current = renaming !== null;
  }, [renaming]);

  const data = playlist.data;
  if (!data) return null;
  const entries = data.entries.filter((entry) => !undo.hidden.has(entry.trackId));
  /**
   * Dropping entry `from` on the row of entry `to` puts it in that row's place: the same move
   * the arrow buttons send (before the row when it goes up, after it when it goes down).
   */
  const dropEntry = (from: string, to: string) => {
    const source = entries.findIndex((entry) => entry.id === from);
    const target = entries.findIndex((entry) => entry.id === to);
    if (source < 0 || target < 0 || source === target) return;
    move.mutate(source > target ? { entryId: from, before: to } : { entryId: from, after: to });
  };
  const endDrag = () => {
    setDragged(null);
    setDropOn(null);
  };
  const cancelRename = () => {
    setProblem(null);
    setRenaming(null);
  };
  const deletePlaylist = () => {
    onDeleted();
    undo.remove({
      key: `playlist-${id}`,
      hides: [id],
      message: t("deletedPlaylist", { name: data.name, count: entries.length }),
      commit: () =>
        unwrap(window.chorus.deletePlaylist({ id })).finally(() =>
          queryClient.invalidateQueries({ queryKey: queryKeys.library }),
        ),
      onUndo: () => {
        onRestored();
        requestAnimationFrame(() =>
          document.querySelector<HTMLElement>(`[data-playlist-id="${id}"]`)?.focus(),
        );
      },
    });
  };

  return (
    <div>
      {renaming === null ? (
        <div className="playlist-head">
          <h2 id="playlist-heading" className="playlist-name">
            {data.name}
          </h2>
          <div className="row">
            <button type="button" ref={renameButton} onClick={() => setRenaming(data.name)}>
              {t("rename")}
            </button>
            <button type="button" className="danger" onClick={deletePlaylist}>
              {t("deletePlaylist")}
            </button>
          </div>
        </div>
      ) : (
        <form
          className="stack"
          noValidate
          onKeyDown={(event) => {
            if (event.key === "Escape") {
              event.preventDefault();
              cancelRename();
            }
          }}
          onSubmit={(event) => {
            event.preventDefault();
            const found = checkName(renaming);
            setProblem(found);
            if (found) return;
            rename.mutate(renaming.trim(), { onSuccess: () => setRenaming(null) });
          }}
        >
          <h2 id="playlist-heading" className="visually-hidden">
            {data.name}
          </h2>
          <label htmlFor={`rename-${id}`}>
            <span className="label">{t("playlistName")}</span>
          </label>
          <input
            id={`rename-${id}`}
            ref={renameInput}
            value={renaming}
            onChange={(event) => setRenaming(event.target.value)}
            aria-invalid={problem ? true : undefined}
            aria-describedby={problem ? `rename-${id}-error` : undefined}
          />
          {problem && (
            <p id={`rename-${id}-error`} className="error">
              {problemText(problem)}
            </p>
          )}
          <div className="row">
            <button type="submit" className="primary" disabled={rename.isPending}>
              {t("save")}
            </button>
            <button type="button" onClick={cancelRename}>
              {t("cancel")}
            </button>
          </div>
        </form>
      )}
      <PlaylistCover playlistId={id} name={data.name} />
      <OverwrittenNotices entity="playlist" entityId={id} returnFocus={renameButton} />
      <Alerts errors={[rename.error, move.error, removeEntry.error]} />
      {entries.length === 0 ? (
        <p className="muted">{t("emptyPlaylist")}</p>
      ) : (
        <VirtualList
          ordered
          items={entries}
          itemKey={(entry) => entry.id}
          label={data.name}
          testId="playlist-entries"
          rowProps={(entry, index) => ({
            draggable: true,
            "data-entry-id": entry.id,
            "data-dragging": dragged === entry.id ? "true" : undefined,
            "data-drop":
              dragged !== null && dropOn === entry.id && dragged !== entry.id
                ? entries.findIndex((other) => other.id === dragged) > index
                  ? "before"
                  : "after"
                : undefined,
            onDragStart: (event) => {
              event.dataTransfer.effectAllowed = "move";
              event.dataTransfer.setData("text/plain", entry.track.title);
              setDragged(entry.id);
            },
            onDragOver: (event) => {
              if (dragged === null) return;
              event.preventDefault();
              event.dataTransfer.dropEffect = "move";
              if (dropOn !== entry.id) setDropOn(entry.id);
            },
            onDrop: (event) => {
              event.preventDefault();
              if (dragged !== null) dropEntry(dragged, entry.id);
              endDrag();
            },
            onDragEnd: endDrag,
          })}
          renderRow={(entry, index) => (
            <>
              <span className="drag-handle" aria-hidden="true" title={t("dragToReorder")}>
                ⠿
              </span>
              <span className="grow ellipsis" title={entry.track.title}>
                {entry.track.title}
                <span className="muted"> — {entry.track.artist ?? t("unknownArtist")}</span>
              </span>
              <button
                type="button"
                className="icon"
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
                className="icon"
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
            </>
          )}
        />
      )}
    </div>
  );
}

function TracksPanel({
  playlistId,
  playlistName,
  matches,
  filtered,
}: {
  playlistId: string | null;
  playlistName: string | null;
  matches(text: string | null): boolean;
  filtered: boolean;
}) {
  const t = useTranslations("Desktop.library");
  const problemText = useFieldProblemText();
  const undo = useUndo();
  const queryClient = useQueryClient();
  const formId = useId();
  const tracks = useQuery({
    queryKey: queryKeys.tracks,
    queryFn: () => unwrap(window.chorus.listTracks()),
    refetchInterval: LIVE_REFETCH_MS,
  });
  const [title, setTitle] = useState("");
  const [artist, setArtist] = useState("");
  const [problem, setProblem] = useState<FieldProblem | null>(null);
  const add = useLibraryEdit((track: { title: string; artist: string | null }) =>
    unwrap(window.chorus.addTrack(track)),
  );
  const addEntry = useLibraryEdit((trackId: string) =>
    unwrap(window.chorus.addEntry({ playlistId: playlistId as string, trackId })),
  );
  const [usageError, setUsageError] = useState<Error | null>(null);
  const visible = (tracks.data ?? []).filter(
    (track) => !undo.hidden.has(track.id) && (matches(track.title) || matches(track.artist)),
  );

  const deleteTrack = async (track: Track) => {
    setUsageError(null);
    let playlists: number;
    try {
      ({ playlists } = await unwrap(window.chorus.trackUsage({ id: track.id })));
    } catch (error) {
      setUsageError(error as Error);
      return;
    }
    undo.remove({
      key: `track-${track.id}`,
      hides: [track.id],
      message: t("deletedTrack", { title: track.title, count: playlists }),
      commit: () =>
        unwrap(window.chorus.deleteTrack({ id: track.id })).finally(() =>
          queryClient.invalidateQueries({ queryKey: queryKeys.library }),
        ),
    });
  };

  return (
    <section aria-labelledby="tracks-heading" className="panel">
      <h2 id="tracks-heading">{t("tracks")}</h2>
      <form
        className="add-track"
        noValidate
        aria-label={t("addTrack")}
        onSubmit={(event) => {
          event.preventDefault();
          const found = checkName(title);
          setProblem(found);
          if (found) return;
          const submitted = { title: title.trim(), artist: artist.trim() || null };
          setTitle("");
          setArtist("");
          add.mutate(submitted, {
            onError: () => {
              setTitle((current) => (current === "" ? submitted.title : current));
              setArtist((current) => (current === "" ? (submitted.artist ?? "") : current));
            },
          });
        }}
      >
        <label htmlFor={`${formId}-title`}>
          <span className="label">{t("trackTitle")}</span>
        </label>
        <input
          id={`${formId}-title`}
          value={title}
          onChange={(event) => setTitle(event.target.value)}
          aria-invalid={problem ? true : undefined}
          aria-describedby={problem ? `${formId}-error` : undefined}
        />
        <label htmlFor={`${formId}-artist`}>
          <span className="label">{t("trackArtist")}</span>
        </label>
        <input
          id={`${formId}-artist`}
          value={artist}
          onChange={(event) => setArtist(event.target.value)}
        />
        <button type="submit" className="primary" disabled={add.isPending}>
          {t("addTrack")}
        </button>
      </form>
      {problem && (
        <p id={`${formId}-error`} className="error">
          {problemText(problem)}
        </p>
      )}
      <Alerts errors={[add.error, addEntry.error, usageError]} />
      {tracks.data?.length === 0 && <p className="muted">{t("noTracks")}</p>}
      {(tracks.data?.length ?? 0) > 0 && visible.length === 0 && filtered && (
        <p className="muted">{t("noMatches")}</p>
      )}
      <VirtualList
        items={visible}
        itemKey={(track) => track.id}
        label={t("tracks")}
        testId="tracks"
        renderRow={(track) => (
          <>
            <span className="grow ellipsis" title={track.title}>
              {track.title}
              <span className="muted"> — {track.artist ?? t("unknownArtist")}</span>
            </span>
            {playlistId && playlistName && (
              <button
                type="button"
                aria-label={t("addToPlaylistLabel", { title: track.title, playlist: playlistName })}
                onClick={() => addEntry.mutate(track.id)}
              >
                {t("add")}
              </button>
            )}
            <button
              type="button"
              className="danger"
              aria-label={t("deleteTrackLabel", { title: track.title })}
              onClick={() => void deleteTrack(track)}
            >
              {t("delete")}
            </button>
          </>
        )}
      />
    </section>
  );
}
