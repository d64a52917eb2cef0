// Client-side helpers of the discovery recipe (see API.md "Recipes"), built on CairnClient.call/subscribe.
export {};
