import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type DragEvent, useId, useState } from "react";
import { useTranslations } from "use-intl";
import { Alerts } from "./Alerts.js";
import { LIVE_REFETCH_MS, queryKeys, unwrap } from "./bridge.js";

/** What the file picker offers and the engine accepts (it checks the bytes, not the name). */
const IMAGE_TYPES = ["image/png", "image/jpeg", "image/gif", "image/webp"];
const COVER_MAX_BYTES = 10 * 1024 * 1024;

/** A file's bytes as base64 (what the bridge carries to the engine). */
function readAsBase64(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).replace(/^data:[^,]*,/, ""));
    reader.onerror = () => reject(reader.error ?? new Error("the file could not be read"));
    reader.readAsDataURL(file);
  });
}

/**
 * A playlist's cover image: shown when it is on this computer (a cover set on another
 * computer is fetched by the engine, and shows once it arrives; meanwhile the engine's blob
 * status says whether it is on its way or missing, and a cover made here says while it
 * uploads), set from the file picker or
 * by dropping an image file on it, removed with a button. The image travels as a blob of the
 * account: sealed when the account is end-to-end encrypted.
 */
export function PlaylistCover({ playlistId, name }: { playlistId: string; name: string }) {
  const t = useTranslations("Desktop.library");
  const queryClient = useQueryClient();
  const inputId = useId();
  const [dropping, setDropping] = useState(false);
  const [local, setLocal] = useState<"notImage" | null>(null);
  const cover = useQuery({
    queryKey: queryKeys.cover(playlistId),
    queryFn: () => unwrap(window.chorus.getPlaylistCover({ playlistId })),
    refetchInterval: LIVE_REFETCH_MS,
  });
  const settled = async () => {
    await queryClient.invalidateQueries({ queryKey: queryKeys.library });
    await queryClient.invalidateQueries({ queryKey: queryKeys.diagnostics });
  };
  const set = useMutation({
    mutationFn: async (file: File) =>
      unwrap(window.chorus.setPlaylistCover({ playlistId, data: await readAsBase64(file) })),
    onSettled: settled,
  });
  const clear = useMutation({
    mutationFn: () => unwrap(window.chorus.clearPlaylistCover({ playlistId })),
    onSettled: settled,
  });
  const choose = (file: File | undefined) => {
    if (!file) return;
    if (!IMAGE_TYPES.includes(file.type) || file.size === 0 || file.size > COVER_MAX_BYTES) {
      setLocal("notImage");
      return;
    }
    setLocal(null);
    set.mutate(file);
  };
  const carriesFiles = (event: DragEvent) => event.dataTransfer.types.includes("Files");
  const data = cover.data;
  const busy = set.isPending || clear.isPending;

  return (
    <div className="cover-row">
      <figure
        aria-describedby={`${inputId}-hint`}
        className="cover"
        data-testid="playlist-cover"
        data-state={data?.state ?? "loading"}
        data-dropping={dropping ? "true" : undefined}
        onDragOver={(event) => {
          if (!carriesFiles(event)) return;
          event.preventDefault();
          event.dataTransfer.dropEffect = "copy";
          setDropping(true);
        }}
        onDragLeave={() => setDropping(false)}
        onDrop={(event) => {
          if (!carriesFiles(event)) return;
          event.preventDefault();
          setDropping(false);
          choose(event.dataTransfer.files[0]);
        }}
      >
        {data?.state === "present" && data.data ? (
          <img
            src={`data:${data.mediaType ?? "application/octet-stream"};base64,${data.data}`}
            alt={t("coverAlt", { name })}
          />
        ) : (
          <span className="muted small" data-testid="cover-transfer">
            {data?.state !== "missing"
              ? t("noCover")
              : data.transfer === "downloading"
                ? t("coverOnItsWay")
                : t("coverMissing")}
          </span>
        )}
      </figure>
      <div className="stack">
        <p id={`${inputId}-hint`} className="muted small">
          {t("coverHint")}
        </p>
        <div className="row">
          <input
            id={inputId}
            type="file"
            className="visually-hidden"
            accept={IMAGE_TYPES.join(",")}
            disabled={busy}
            data-testid="cover-file"
            onChange={(event) => {
              choose(event.target.files?.[0]);
              event.target.value = "";
            }}
          />
          <label htmlFor={inputId} className="button" aria-disabled={busy ? true : undefined}>
            {data?.cover ? t("changeCover") : t("setCover")}
          </label>
          {data?.cover && (
            <button type="button" disabled={busy} onClick={() => clear.mutate()}>
              {t("removeCover")}
            </button>
          )}
        </div>
        {set.data && !set.data.uploaded ? (
          <p role="status">{t("coverWaits")}</p>
        ) : (
          data?.transfer === "uploading" && <p role="status">{t("coverUploading")}</p>
        )}
        {local === "notImage" && (
          <p role="alert" className="error">
            {t("coverNotImage")}
          </p>
        )}
        <Alerts errors={[cover.error, set.error, clear.error]} />
      </div>
    </div>
  );
}
