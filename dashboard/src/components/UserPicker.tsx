import { api, type UserItem } from "../api";
import { useLoad } from "../hooks";

/** Admins: whose traffic to show (everyone's by default). */
export function UserPicker({ apiKey, value, onChange }: { apiKey: string; value: string; onChange: (id: string) => void }) {
  const [users] = useLoad((signal) => api<{ users: UserItem[] }>(apiKey, "/v1/analytics/users", { signal }), [apiKey]);
  const list = users.data?.users ?? [];
  return (
    <label className="user-picker">
      <span>Key / user</span>
      <select value={value} onChange={(e) => onChange(e.target.value)} data-testid="user-picker">
        <option value="">All keys</option>
        {list.map((user) => (
          <option key={user.id} value={user.id}>
            {user.name} ({user.prefix}…){user.is_active ? "" : " · revoked"}
          </option>
        ))}
      </select>
    </label>
  );
}
