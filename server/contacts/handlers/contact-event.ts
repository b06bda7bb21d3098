import { type EventKey, type EventOf, field } from '../../wecom/events';

type ContactChangeKey = Extract<EventKey, `event/change_external_contact/${string}`>;

/** The member (UserID) and customer (ExternalUserID) a contact change names; null if either is missing. */
export function contactOf(event: EventOf<ContactChangeKey>): { userid: string; externalUserid: string } | null {
  const externalUserid = field(event, 'ExternalUserID');
  const userid = field(event, 'UserID');
  return externalUserid && userid ? { externalUserid, userid } : null;
}
