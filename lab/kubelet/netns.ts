/**
 * The network namespace of a pod is named from the lab and the pod's UID alone, so that the
 * kubelet, a restarted kubelet and the lab's test API all find it without asking each other.
 */
export function podNetnsName(labName: string, uid: string): string {
  return `${labName}-p-${uid.replace(/-/g, '').slice(0, 16)}`;
}
