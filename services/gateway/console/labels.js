// The words an agent sees for the API's channels, identities and customers.

export const CHANNELS = {
  CHANNEL_PHONE: "Phone call",
  CHANNEL_EMAIL: "Email",
  CHANNEL_CHAT: "Chat",
  CHANNEL_SOCIAL: "Social",
  CHANNEL_SMS: "SMS",
  CHANNEL_WHATSAPP: "WhatsApp",
  CHANNEL_VIDEO_CALL: "Video call",
  CHANNEL_IN_PERSON: "In person",
  CHANNEL_POSTAL_MAIL: "Post",
  CHANNEL_WEB_FORM: "Web form",
};

export function identityText(identity) {
  if (!identity) return "";
  if (identity.email) return identity.email;
  if (identity.phone) return identity.phone;
  if (identity.social) return `${identity.social.handle} on ${identity.social.platform}`;
  if (identity.chatVisitorId) return `chat visitor ${identity.chatVisitorId}`;
  if (identity.external) return `${identity.external.system} ${identity.external.id}`;
  return "";
}

export function customerTitle(customer) {
  return customer.displayName || identityText((customer.identities || [])[0]) || customer.name;
}
