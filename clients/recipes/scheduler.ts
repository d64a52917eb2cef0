// Client-side helpers of the scheduler recipe (see API.md "Recipes"), built on CairnClient.call/subscribe.
export {};
