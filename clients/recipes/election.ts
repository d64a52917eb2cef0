// Client-side helpers of the election recipe (see API.md "Recipes"), built on CairnClient.call/subscribe.
export {};
