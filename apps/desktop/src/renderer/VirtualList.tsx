import { type LiHTMLAttributes, type ReactNode, useState } from "react";

/** Lists up to this many rows are rendered whole; longer ones are windowed. */
export const WINDOW_THRESHOLD = 60;
const OVERSCAN = 8;

/*
 * A windowed list: a long library renders only the rows in view (plus a few either side) in
 * a scrolling box of fixed height, instead of a button per row for thousands of rows. Rows
 * have a fixed height in windowed mode (ROW_HEIGHT_PX, see .vrow in styles.css); each row
 * keeps its place in the whole list for assistive technology (aria-setsize/posinset).
 */
export const ROW_HEIGHT_PX = 44;
const VIEWPORT_ROWS = 12;

export function VirtualList<T>({
  items,
  itemKey,
  renderRow,
  label,
  ordered = false,
  testId,
  rowProps,
}: {
  items: readonly T[];
  itemKey(item: T): string;
  renderRow(item: T, index: number): ReactNode;
  label: string;
  ordered?: boolean;
  testId?: string;
  /** Extra attributes of a row's <li> (drag and drop handlers, data attributes). */
  rowProps?(item: T, index: number): LiHTMLAttributes<HTMLLIElement>;
}) {
  const [scrollTop, setScrollTop] = useState(0);
  const List = ordered ? "ol" : "ul";
  if (items.length <= WINDOW_THRESHOLD) {
    return (
      <List className="list" aria-label={label} data-testid={testId}>
        {items.map((item, index) => (
          <li key={itemKey(item)} className="row" {...rowProps?.(item, index)}>
            {renderRow(item, index)}
          </li>
        ))}
      </List>
    );
  }
  const first = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT_PX) - OVERSCAN);
  const last = Math.min(items.length, first + VIEWPORT_ROWS + 2 * OVERSCAN);
  return (
    <div
      className="window"
      style={{ height: ROW_HEIGHT_PX * VIEWPORT_ROWS }}
      onScroll={(event) => setScrollTop(event.currentTarget.scrollTop)}
      data-windowed="true"
    >
      <List
        className="list windowed"
        aria-label={label}
        data-testid={testId}
        style={{ height: items.length * ROW_HEIGHT_PX }}
      >
        {items.slice(first, last).map((item, offset) => {
          const index = first + offset;
          return (
            <li
              key={itemKey(item)}
              className="row vrow"
              aria-setsize={items.length}
              aria-posinset={index + 1}
              style={{ top: index * ROW_HEIGHT_PX }}
              {...rowProps?.(item, index)}
            >
              {renderRow(item, index)}
            </li>
          );
        })}
      </List>
    </div>
  );
}
