import { formatLibrary } from "../cli/format.js";
import { EngineError } from "../errors.js";
import { defineCommand, type Zod } from "./define.js";

/*
 * The music library: reads and edits. Every `run` goes through `host.library`, the one narrow
 * object the library is reached by.
 */

const id = (z: Zod) => z.string().min(1).max(128);
const placement = (z: Zod) => ({ after: id(z).optional(), before: id(z).optional() });
const placementOf = (input: { after?: string | undefined; before?: string | undefined }) => ({
  ...(input.after ? { after: input.after } : {}),
  ...(input.before ? { before: input.before } : {}),
});
const placementOptions = [
  { name: "after", type: "string" },
  { name: "before", type: "string" },
] as const;

export const libraryCommands = [
  defineCommand({
    name: "getLibrary",
    input: ({ z }) => z.undefined(),
    run: (host) => host.library.snapshot(),
    channel: null,
    desktopAbsent: "the window reads playlists and tracks one view at a time",
    cli: {
      path: ["library"],
      usage: "library",
      help: { section: "Library", usage: "library", text: ["the whole library"] },
      kind: "read",
      print: (library) => ({ json: library, human: formatLibrary(library) }),
    },
  }),
  defineCommand({
    name: "listPlaylists",
    input: ({ z }) => z.undefined(),
    run: (host) => host.library.playlists(),
    channel: "chorus:library:playlists",
    cli: {
      path: ["playlist", "list"],
      usage: "playlist list",
      help: { section: "Library", usage: "playlist list | show <id>" },
      kind: "read",
      print: (playlists) => ({
        json: playlists,
        human:
          playlists.map((p) => `${p.id}  ${p.name}  (${p.entryCount})\n`).join("") ||
          "No playlists\n",
      }),
    },
  }),
  defineCommand({
    name: "getPlaylist",
    input: ({ z }) => z.strictObject({ id: id(z) }),
    run: (host, { id }) => host.library.playlist(id),
    channel: "chorus:library:playlist",
    cli: {
      path: ["playlist", "show"],
      args: ["id"],
      usage: "playlist show <id>",
      help: { with: "listPlaylists" },
      kind: "read",
      print: (playlist, { id }) => {
        if (!playlist) throw new EngineError("not_found", `no playlist with id ${id}`, { id });
        return {
          json: playlist,
          human: `${playlist.name}\n${playlist.entries.map((e, i) => `  ${i + 1}. ${e.track.title}  [${e.id}]\n`).join("")}`,
        };
      },
    },
  }),
  defineCommand({
    name: "createPlaylist",
    input: ({ z, contract }) => z.strictObject({ name: contract.playlistNameSchema }),
    run: (host, { name }) => host.library.createPlaylist(name),
    channel: "chorus:library:create-playlist",
    cli: {
      path: ["playlist", "create"],
      args: ["name"],
      usage: "playlist create <name>",
      help: {
        section: "Library",
        usage: "playlist create <name> | rename <id> <name> | delete <id>",
      },
      kind: "edit",
      print: (p) => ({ json: p, human: `Created playlist ${p.name} (${p.id})` }),
    },
  }),
  defineCommand({
    name: "renamePlaylist",
    input: ({ z, contract }) => z.strictObject({ id: id(z), name: contract.playlistNameSchema }),
    run: (host, { id, name }) => host.library.renamePlaylist(id, name),
    channel: "chorus:library:rename-playlist",
    cli: {
      path: ["playlist", "rename"],
      args: ["id", "name"],
      usage: "playlist rename <id> <name>",
      help: { with: "createPlaylist" },
      kind: "edit",
      print: (p) => ({ json: p, human: `Renamed playlist ${p.id} to ${p.name}` }),
    },
  }),
  defineCommand({
    name: "deletePlaylist",
    input: ({ z }) => z.strictObject({ id: id(z) }),
    run: (host, { id }) => host.library.deletePlaylist(id),
    channel: "chorus:library:delete-playlist",
    cli: {
      path: ["playlist", "delete"],
      args: ["id"],
      usage: "playlist delete <id>",
      help: { with: "createPlaylist" },
      kind: "edit",
      print: (p) => ({ json: p, human: `Deleted playlist ${p.id}` }),
    },
  }),
  defineCommand({
    name: "listTracks",
    input: ({ z }) => z.undefined(),
    run: (host) => host.library.tracks(),
    channel: "chorus:library:tracks",
    cli: {
      path: ["track", "list"],
      usage: "track list",
      help: {
        section: "Library",
        usage: "track list | add <title> [--artist A] [--album B] [--duration-ms N] | delete <id>",
      },
      kind: "read",
      print: (tracks) => ({
        json: tracks,
        human:
          tracks.map((t) => `${t.id}  ${t.title}${t.artist ? ` — ${t.artist}` : ""}\n`).join("") ||
          "No tracks\n",
      }),
    },
  }),
  defineCommand({
    name: "addTrack",
    input: ({ z }) =>
      z.strictObject({
        title: z.string().trim().min(1).max(200),
        artist: z.string().trim().max(200).nullish(),
        album: z.string().trim().max(200).nullish(),
        durationMs: z.int().nonnegative().nullish(),
      }),
    run: (host, track) =>
      host.library.addTrack({
        title: track.title,
        artist: track.artist ?? null,
        album: track.album ?? null,
        durationMs: track.durationMs ?? null,
      }),
    channel: "chorus:library:add-track",
    cli: {
      path: ["track", "add"],
      args: ["title"],
      options: [
        { name: "artist", type: "string" },
        { name: "album", type: "string" },
        { name: "duration-ms", type: "number" },
      ],
      usage: "track add <title>",
      help: { with: "listTracks" },
      kind: "edit",
      print: (t) => ({ json: t, human: `Added track ${t.title} (${t.id})` }),
    },
  }),
  defineCommand({
    name: "deleteTrack",
    input: ({ z }) => z.strictObject({ id: id(z) }),
    run: (host, { id }) => host.library.deleteTrack(id),
    channel: "chorus:library:delete-track",
    cli: {
      path: ["track", "delete"],
      args: ["id"],
      usage: "track delete <id>",
      help: { with: "listTracks" },
      kind: "edit",
      print: (t) => ({ json: t, human: `Deleted track ${t.id}` }),
    },
  }),
  defineCommand({
    name: "trackUsage",
    input: ({ z }) => z.strictObject({ id: id(z) }),
    run: (host, { id }) => ({ playlists: host.playlistsHoldingTrack(id) }),
    channel: "chorus:library:track-usage",
    cli: null,
    cliAbsent: "the window says what deleting a track takes it out of; the CLI shows playlists",
  }),
  defineCommand({
    name: "addEntry",
    input: ({ z }) => z.strictObject({ playlistId: id(z), trackId: id(z), ...placement(z) }),
    run: (host, input) =>
      host.library.addEntry(input.playlistId, input.trackId, placementOf(input)),
    channel: "chorus:library:add-entry",
    cli: {
      path: ["entry", "add"],
      args: ["playlistId", "trackId"],
      options: placementOptions,
      usage: "entry add <playlist-id> <track-id>",
      help: {
        section: "Library",
        usage: "entry add <playlist-id> <track-id> [--after <entry-id> | --before <entry-id>]",
      },
      kind: "edit",
      print: (e) => ({ json: e, human: `Added entry ${e.id}` }),
    },
  }),
  defineCommand({
    name: "moveEntry",
    input: ({ z }) =>
      z.strictObject({
        entryId: id(z),
        ...placement(z),
        /** To the end of the playlist (also what no placement means). */
        toEnd: z.boolean().optional(),
      }),
    run: (host, input) => host.library.moveEntry(input.entryId, placementOf(input)),
    channel: "chorus:library:move-entry",
    cli: {
      path: ["entry", "move"],
      args: ["entryId"],
      options: [...placementOptions, { name: "to-end", type: "boolean" }],
      usage: "entry move <entry-id> (--after | --before | --to-end)",
      help: {
        section: "Library",
        usage: "entry move <entry-id> (--after <entry-id> | --before <entry-id> | --to-end)",
      },
      kind: "edit",
      check: (raw) =>
        raw.after || raw.before || raw.toEnd
          ? null
          : "entry move needs --after <entry-id>, --before <entry-id> or --to-end",
      print: (e) => ({ json: e, human: `Moved entry ${e.id}` }),
    },
  }),
  defineCommand({
    name: "removeEntry",
    input: ({ z }) => z.strictObject({ entryId: id(z) }),
    run: (host, { entryId }) => host.library.removeEntry(entryId),
    channel: "chorus:library:remove-entry",
    cli: {
      path: ["entry", "remove"],
      args: ["entryId"],
      usage: "entry remove <entry-id>",
      help: { section: "Library", usage: "entry remove <entry-id>" },
      kind: "edit",
      print: (e) => ({ json: e, human: `Removed entry ${e.id}` }),
    },
  }),
  defineCommand({
    name: "setPlaylistCover",
    input: ({ z, contract }) =>
      z.strictObject({
        playlistId: id(z),
        /** The image's bytes, base64 (the window reads the file the user picked or dropped). */
        data: z
          .string()
          .min(1, "the cover image is empty")
          .max(Math.ceil(contract.COVER_MAX_BYTES / 3) * 4, "the cover image is too large"),
      }),
    run: (host, { playlistId, data }) =>
      host.library.setPlaylistCover(playlistId, { bytes: Buffer.from(data, "base64") }),
    channel: "chorus:library:set-cover",
    cli: null,
    cliAbsent: "the CLI names a file instead of sending bytes: setPlaylistCoverFile (cover set)",
  }),
  defineCommand({
    name: "setPlaylistCoverFile",
    input: ({ z }) => z.strictObject({ playlistId: id(z), file: z.string().min(1) }),
    run: (host, { playlistId, file }) => host.library.setPlaylistCover(playlistId, { path: file }),
    channel: null,
    desktopAbsent:
      "the window sends the image's bytes (setPlaylistCover); a path from the window would let it read any file",
    cli: {
      path: ["cover", "set"],
      args: ["playlistId", "file"],
      usage: "cover set <playlist-id> <file>",
      help: {
        section: "Library",
        usage: "cover set <playlist-id> <file> | clear <playlist-id>",
      },
      kind: "edit",
      print: (c) => ({
        json: c,
        human: `Cover of playlist ${c.id} set (${c.cover})${c.uploaded ? "" : "; the image uploads once this device is online"}`,
      }),
    },
  }),
  defineCommand({
    name: "clearPlaylistCover",
    input: ({ z }) => z.strictObject({ playlistId: id(z) }),
    run: (host, { playlistId }) => host.library.clearPlaylistCover(playlistId),
    channel: "chorus:library:clear-cover",
    cli: {
      path: ["cover", "clear"],
      args: ["playlistId"],
      usage: "cover clear <playlist-id>",
      help: { with: "setPlaylistCoverFile" },
      kind: "edit",
      print: (c) => ({ json: c, human: `Cover of playlist ${c.id} removed` }),
    },
  }),
  defineCommand({
    name: "getPlaylistCover",
    input: ({ z }) => z.strictObject({ playlistId: id(z) }),
    run: (host, { playlistId }) => host.library.playlistCover(playlistId),
    channel: "chorus:library:cover",
    cli: {
      path: ["cover", "show"],
      args: ["playlistId"],
      usage: "cover show <playlist-id>",
      help: {
        section: "Library",
        usage: "cover show <playlist-id> | get <playlist-id> <file>",
      },
      kind: "read",
      print: (c) => ({
        json: c,
        human:
          c.state === "none"
            ? "No cover\n"
            : `${c.cover}  ${c.state}${c.mediaType ? `  ${c.mediaType}` : ""}${c.problem ? `\n${c.problem}` : ""}\n`,
        exitCode: c.state === "missing" ? 1 : 0,
      }),
    },
  }),
  defineCommand({
    name: "savePlaylistCover",
    input: ({ z }) => z.strictObject({ playlistId: id(z), file: z.string().min(1) }),
    run: (host, { playlistId, file }) => host.library.savePlaylistCover(playlistId, file),
    channel: null,
    desktopAbsent: "the window shows the cover; saving a copy to a file is for the command line",
    cli: {
      path: ["cover", "get"],
      args: ["playlistId", "file"],
      usage: "cover get <playlist-id> <file>",
      help: { with: "getPlaylistCover" },
      kind: "read",
      print: (c) => ({
        json: c,
        human: `Saved the cover of playlist ${c.id} (${c.bytes} bytes) to ${c.file}`,
      }),
    },
  }),
] as const;
