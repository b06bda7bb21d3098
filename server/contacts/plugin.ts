import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { addHandler } from './handlers/add';
import { customerDeletedManager, managerDeletedCustomer } from './handlers/delete';
import { contactEdited, tagLibraryChanged } from './handlers/edit';
import { memberChanged } from './handlers/members';
import { transferFailed } from './handlers/transfer-fail';

const CONTACT = 'event/change_external_contact';

/**
 * The customer contact lifecycle: handlers for contact, tag and member events in the event
 * registry. Handlers reach app.wecom at call time, so this plugin does not depend on the
 * registration order.
 */
export const contactsPlugin = fp(
  async (app: FastifyInstance) => {
    app.events
      .on(`${CONTACT}/add_external_contact`, addHandler(false))
      .on(`${CONTACT}/add_half_external_contact`, addHandler(true))
      .on(`${CONTACT}/del_external_contact`, managerDeletedCustomer)
      .on(`${CONTACT}/del_follow_user`, customerDeletedManager)
      .on(`${CONTACT}/transfer_fail`, transferFailed)
      .on(`${CONTACT}/edit_external_contact`, contactEdited)
      .on('event/change_external_tag', tagLibraryChanged)
      .on('event/change_contact/create_user', memberChanged)
      .on('event/change_contact/update_user', memberChanged)
      .on('event/change_contact/delete_user', memberChanged);
  },
  { name: 'contacts' },
);
