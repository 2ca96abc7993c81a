import { useTranslations } from "next-intl";
import styles from "./landing.module.css";

type DemoDevice = {
  name: "studio" | "laptop" | "home";
  status: "origin" | "synced" | "offline";
};

const devices: readonly DemoDevice[] = [
  { name: "studio", status: "origin" },
  { name: "laptop", status: "synced" },
  { name: "home", status: "offline" },
];

/** A static illustration of one edit fanning out to the user's other desktops. */
export function SyncDemo() {
  const t = useTranslations("Landing.demo");
  return (
    <figure className={styles.demo} aria-label={t("label")}>
      <div className={styles.demoServer} aria-hidden="true">
        <span className={styles.pulse} />
        Chorus
      </div>
      <ul className={styles.demoDevices}>
        {devices.map((device) => (
          <li key={device.name} className={styles.device} data-status={device.status}>
            <div className={styles.deviceBar}>
              <span className={styles.dots} aria-hidden="true">
                <span />
                <span />
                <span />
              </span>
              <span className={styles.deviceName}>{t(device.name)}</span>
            </div>
            {device.status === "offline" ? (
              <>
                <p className={styles.deviceSkeleton} aria-hidden="true" />
                <p className={styles.deviceStatus}>{t("offline", { count: 2 })}</p>
              </>
            ) : (
              <>
                <p className={styles.deviceEdit}>{t("edit")}</p>
                <p className={styles.deviceStatus}>
                  {t("synced", { ms: device.status === "origin" ? 42 : 180 })}
                </p>
              </>
            )}
          </li>
        ))}
      </ul>
    </figure>
  );
}
